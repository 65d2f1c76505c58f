"""ga4 beyond the channel contract: its contract's data
(test_channel_contract_faults.py runs it); landing and staging are the
contract's (test_channel_contract.py)."""

from __future__ import annotations

from sandbox import Fault
from tests.integration.contract import NO_CURSOR, Call, Contract

# The channel contract (test_channel_contract_faults.py): the faults in this API's dialect.
CONTRACT = Contract(
    throttle=Call("traffic", (Fault("ga4", "throttle", params={"retry_after": 5}),), waits=[5.0]),
    server_error=Call("traffic", (Fault("ga4", "server_error", times=3),)),
    truncated=Call("traffic", (Fault("ga4", "truncated"),)),
    bad_data=Call("traffic", (Fault("ga4", "bad_data", params={"field": "bounceRate", "value": "n/a"}),),
                  column=lambda r: "column 'bounceRate'", held_field="metrics.bounceRate", others_land=False),
    removed_metric=Call("traffic", (Fault("ga4", "remove_metric", params={"metric": "sessions"}),)),
    expired_token=Call("traffic", (Fault("ga4", "expired_token"),), status=401, code="UNAUTHENTICATED"),
    repeat_cursor=NO_CURSOR.format("offset"),
)
