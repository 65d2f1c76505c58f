"""fx (ECB reference rates) beyond the channel contract: its contract's data
(test_channel_contract_faults.py runs it); landing and staging are the
contract's (test_channel_contract.py)."""

from __future__ import annotations

from sandbox import Fault
from tests.integration.contract import NO_CURSOR, Call, Contract

# The channel contract (test_channel_contract_faults.py): the faults in this API's dialect.
CONTRACT = Contract(
    throttle=Call("ecb_rates", (Fault("fx", "throttle", params={"retry_after": 7}),), waits=[7.0]),
    server_error=Call("ecb_rates", (Fault("fx", "server_error", times=3),)),
    truncated=Call("ecb_rates", (Fault("fx", "truncated"),)),
    bad_data=Call("ecb_rates", (Fault("fx", "bad_data", params={"field": "OBS_VALUE", "value": "n/a"}),),
                  column=lambda r: "column 'OBS_VALUE'", others_land=False),
    removed_metric="the ECB's CSV has no metrics to ask for (the sandbox's fx channel applies no remove_metric)",
    expired_token="ECB rates are public: no credentials to expire",
    repeat_cursor=NO_CURSOR.format("nothing: one CSV per currency"),
)
