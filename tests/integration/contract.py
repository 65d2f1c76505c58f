"""The channel contract's per-channel data (test_channel_contract_faults.py
runs it): each channel's own test_channel_<channel>.py declares `CONTRACT`,
how the sandbox provokes each fault in that API's dialect and what the
connector must answer, so a new channel's contract lives in its own files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox import Fault


@dataclass(frozen=True)
class Call:
    """One stream synced while `faults` are armed (in the channel's own
    dialect), and what the channel must answer beyond the contract's generic
    checks: `waits` the clock saw (exact list, or `wait_between` bounds),
    `rows` landed, the error's `code`/`status`, words it `says`."""

    stream: str
    faults: tuple[Fault, ...]
    waits: list[float] | None = None
    wait_between: tuple[float, float] | None = None
    rows: int | None = None
    code: object = None
    status: int | None = None
    says: tuple[str, ...] = ()
    read_timeout: float | None = None  # a stall must outlast it
    # bad_data: the words of the reason naming the column (from the held record),
    # the held record's natural key, and the query of the landed keys.
    column: Callable[[dict], str] | None = None
    held_field: str | None = None  # where the bad value sits in the held record, when not at the wire field's path
    # False: positional rows (GA4 value lists, the FX CSV) have no field names
    # to match on (sandbox/faults.py): every row of a response is bad, none lands.
    others_land: bool = True
    record_key: Callable[[dict], object] | None = None
    landed_keys: str | None = None


@dataclass(frozen=True)
class Contract:
    throttle: Call
    server_error: Call
    truncated: Call
    bad_data: Call | str  # str: why the behaviour does not apply to this channel
    removed_metric: Call | str
    expired_token: Call | str
    repeat_cursor: Call | str
    # Behaviours the channel gets wrong today (behaviour -> the finding): the
    # test is a strict xfail, so the fix turns it red until the line goes.
    known_gaps: dict[str, str] = field(default_factory=dict)


NO_CURSOR = "the sandbox channel has no cursor to repeat (Channel.applies): this API pages by {}"
