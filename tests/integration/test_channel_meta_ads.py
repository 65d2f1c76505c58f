"""meta_ads beyond the channel contract: its contract's data
(test_channel_contract_faults.py runs it); landing and staging are the
contract's (test_channel_contract.py)."""

from __future__ import annotations

import datetime as dt

from sandbox import Fault
from tests.integration.contract import Call, Contract

# The channel contract (test_channel_contract_faults.py): the faults in this API's dialect.
CONTRACT = Contract(
    throttle=Call("insights", (Fault("meta_ads", "throttle", params={"minutes": 2}),), waits=[120.0]),
    server_error=Call("insights", (Fault("meta_ads", "server_error", times=3),)),
    truncated=Call("campaigns", (Fault("meta_ads", "truncated"),)),
    bad_data=Call("insights", (Fault("meta_ads", "bad_data", path_contains="/insights",
                                     params={"field": "spend", "value": "n/a", "match": {"date_start": "2026-05-03"}}),),
                  column=lambda r: "column 'spend'", record_key=lambda r: (r["campaign_id"], dt.date.fromisoformat(r["date_start"])),
                  landed_keys="select campaign_id, date_day from raw_meta_ads.insights"),
    removed_metric=Call("insights", (Fault("meta_ads", "remove_metric", params={"metric": "spend"}),)),
    expired_token=Call("accounts", (Fault("meta_ads", "expired_token"),), status=400, code=190),
    repeat_cursor=Call("insights", (Fault("meta_ads", "repeat_cursor", times=-1),)),
)
