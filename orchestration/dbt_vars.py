"""The dbt vars that carry the channel registry into the dbt project.

dbt's unions, channel lists and dim_channel are not written by hand: every
dbt invocation (parse, build, docs, the tests') passes `dbt_cli_vars()`,
computed from the connector classes alone. It changes only when code
changes, never from run to run, so dbt's partial parsing survives between
runs (vars are part of what dbt compares before reusing its parse).

- `channels`: channel -> its declaration (dim_channel, time zones, the ad
  channel of the same platform, the engagements basis); reference data (FX)
  is no channel of the marts and is left out;
- `unions`: union -> {channel: the channel's model feeding it}, read by the
  `union_channels` macro (docs/adding-a-channel.md lists the contracts);
- `paid_channels`, `organic_channels`: the channel lists the marts' tests
  accept.
"""

from __future__ import annotations

import json
from typing import Any

from connectors import CONNECTORS, Connector

PAID_KINDS = ("paid", "paid_and_organic")
ORGANIC_KINDS = ("organic", "paid_and_organic")


def dbt_vars(connectors: dict[str, type[Connector]] = CONNECTORS) -> dict[str, Any]:
    channels = {
        name: {
            "channel_name": c.display_name,
            "platform": c.platform,
            "kind": c.kind,
            "day_timezone": c.day_timezone,
            # An ad channel is its own platform's ad channel.
            "paid_channel": c.paid_channel or (name if c.kind in PAID_KINDS else None),
            "engagements_basis": c.engagements_basis,
        }
        for name, c in sorted(connectors.items()) if c.kind != "reference"
    }
    unions: dict[str, dict[str, str]] = {}
    for name, c in sorted(connectors.items()):
        for union, model in c.dbt_unions.items():
            unions.setdefault(union, {})[name] = model
    return {
        "channels": channels,
        "unions": dict(sorted(unions.items())),
        "paid_channels": [name for name, c in channels.items() if c["kind"] in PAID_KINDS],
        "organic_channels": [name for name, c in channels.items() if c["kind"] in ORGANIC_KINDS],
    }


def dbt_cli_vars(connectors: dict[str, type[Connector]] = CONNECTORS) -> list[str]:
    """`--vars <json>` for a dbt command line: the same text for the same
    registry (sorted keys), so dbt sees unchanged vars and keeps its parse."""
    return ["--vars", json.dumps(dbt_vars(connectors), sort_keys=True, separators=(",", ":"))]


if __name__ == "__main__":  # the --vars argument for a hand-run dbt command
    print(dbt_cli_vars()[1])
