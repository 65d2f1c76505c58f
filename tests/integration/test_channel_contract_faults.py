"""The channel contract, its faults (test_channel_contract.py has the rest):
every connector of the registry survives or names, in its own API's dialect,
a throttle, server errors, a truncated or stalled body, a bad value, a
removed metric, an expired token and a repeating cursor. What differs per
channel is data (its `CONTRACT`: the faults as the sandbox channel speaks
them and what the connector must answer); the checks are written once.

A behaviour the sandbox channel says cannot happen (`Channel.applies`: no
cursor on an API that pages by offset, no token on a public CSV) is skipped
with that reason. Each channel declares its `CONTRACT` (tests/integration/
contract.py) in its own test_channel_<channel>.py; a channel of the registry
without one fails `test_every_channel_of_the_registry_has_a_contract`.
"""

from __future__ import annotations

import importlib
import json

import duckdb
import pytest

from connectors import CONNECTORS
from connectors.http import ApiError, PaginationError, RetryPolicy
from orchestration.landing import raw_table
from tests.integration.conftest import FAST, channel_settings, quarantined, sync_channel
from tests.integration.contract import Call, Contract


def contract_of(channel: str) -> Contract | None:
    """The CONTRACT its own test_channel_<channel>.py declares, if any."""
    try:
        module = importlib.import_module(f"tests.integration.test_channel_{channel}")
    except ModuleNotFoundError:
        return None
    return getattr(module, "CONTRACT", None)


CONTRACTS = {channel: contract_of(channel) for channel in CONNECTORS}


pytestmark = pytest.mark.parametrize("channel", list(CONNECTORS))


def field(record: dict, path: str):
    for part in path.split("."):
        record = record[part]
    return record


def case(request: pytest.FixtureRequest, channel: str, behaviour: str) -> Call:
    if CONTRACTS[channel] is None:
        pytest.fail(f"tests/integration/test_channel_{channel}.py declares no CONTRACT")
    found = getattr(CONTRACTS[channel], behaviour)
    if isinstance(found, str):
        pytest.skip(f"{channel}: {found}")
    gap = CONTRACTS[channel].known_gaps.get(behaviour)
    if gap:
        request.node.add_marker(pytest.mark.xfail(reason=f"{channel}: {gap}", strict=True))
    return found


def sync_under(sandbox, channel: str, call: Call, path, waits: list[float] | None = None):
    sandbox.inject(*call.faults)
    policy = FAST if call.read_timeout is None else RetryPolicy(backoff_base=0.01, read_timeout=call.read_timeout)
    with duckdb.connect(str(path)) as con:
        return sync_channel(con, channel_settings(sandbox, channel), call.stream, policy=policy,
                            sleep=(waits if waits is not None else []).append)


def failure(sandbox, channel: str, call: Call, tmp_path) -> ApiError:
    with pytest.raises(ApiError) as err:
        sync_under(sandbox, channel, call, tmp_path / "failed.duckdb")
    error = err.value
    assert error.channel == channel and channel in str(error)
    assert sandbox.token not in str(error)  # no secret in any error
    assert all(words in str(error) for words in call.says), str(error)
    if call.code is not None:
        assert error.code == call.code, str(error)
    if call.status is not None:
        assert error.status == call.status, str(error)
    return error


def test_every_channel_of_the_registry_has_a_contract(channel):
    assert isinstance(CONTRACTS[channel], Contract), f"tests/integration/test_channel_{channel}.py declares no CONTRACT"
    for behaviour in ("throttle", "server_error", "truncated", "bad_data", "removed_metric", "expired_token", "repeat_cursor"):
        found = getattr(CONTRACTS[channel], behaviour)
        if isinstance(found, Call):
            assert found.stream in CONNECTORS[channel].streams, (behaviour, found.stream)
            assert all(f.channel == channel for f in found.faults), behaviour


def test_a_throttle_is_waited_out(channel, sandbox, tmp_path, request):
    call = case(request, channel, "throttle")
    waits: list[float] = []
    result = sync_under(sandbox, channel, call, tmp_path / "t.duckdb", waits)
    times = sum(f.times for f in call.faults)
    assert result.rows > 0 and result.api["throttles"] == times and len(waits) == times
    if call.waits is not None:
        assert waits == call.waits  # the API said how long: exactly that
    if call.wait_between is not None:
        assert all(call.wait_between[0] <= w <= call.wait_between[1] for w in waits), waits
    if call.rows is not None:
        assert result.rows == call.rows


def test_server_errors_are_retried(channel, sandbox, tmp_path, request):
    call = case(request, channel, "server_error")
    waits: list[float] = []
    result = sync_under(sandbox, channel, call, tmp_path / "s.duckdb", waits)
    times = sum(f.times for f in call.faults)
    assert result.rows > 0 and result.api["retries"] == times and len(waits) == times
    if call.rows is not None:
        assert result.rows == call.rows


def test_a_truncated_or_stalled_body_is_retried(channel, sandbox, tmp_path, request):
    call = case(request, channel, "truncated")
    path = tmp_path / "tr.duckdb"
    result = sync_under(sandbox, channel, call, path)
    assert result.rows > 0 and result.api["retries"] == len(call.faults)
    if call.rows is not None:
        assert result.rows == call.rows
    key = ", ".join(f'"{k}"' for k in CONNECTORS[channel].streams[call.stream].key)
    with duckdb.connect(str(path), read_only=True) as con:  # a retried page lands once
        assert con.execute(f"select count(*), count(distinct ({key})) from {raw_table(channel, call.stream)}"
                           ).fetchone() == (result.rows, result.rows)


def test_a_bad_value_is_quarantined_naming_the_column(channel, sandbox, tmp_path, request):
    call = case(request, channel, "bad_data")
    path = tmp_path / "b.duckdb"
    result = sync_under(sandbox, channel, call, path)
    bad_value = next(f for f in call.faults if f.kind == "bad_data").params
    with duckdb.connect(str(path), read_only=True) as con:
        held = quarantined(con, channel, call.stream)
        landed = set(con.execute(call.landed_keys).fetchall()) if call.landed_keys else None
    records = [json.loads(record) for _, record in held]
    assert held and result.quarantined == len(held)
    assert all(f"{channel}.{call.stream}" in reason and call.column(r) in reason
               for (reason, _), r in zip(held, records, strict=True))
    # The API's own record is held, with the bad value in it.
    assert all(field(r, call.held_field or bad_value["field"]) == bad_value["value"] for r in records)
    assert result.rows > 0 if call.others_land else result.rows == 0
    if call.record_key is not None:  # one record per key: held back, not landed beside
        bad = {call.record_key(r) for r in records}
        landed = {row if len(row) > 1 else row[0] for row in landed}
        assert len(bad) == len(held) and bad.isdisjoint(landed)
        assert len(landed) == result.rows


def test_a_removed_metric_fails_naming_it(channel, sandbox, tmp_path, request):
    call = case(request, channel, "removed_metric")
    error = failure(sandbox, channel, call, tmp_path)
    metric = call.faults[0].params["metric"]
    assert error.kind == "permanent" and metric in str(error)


def test_an_expired_token_fails_at_once(channel, sandbox, tmp_path, request):
    call = case(request, channel, "expired_token")
    assert failure(sandbox, channel, call, tmp_path).kind == "credentials"


def test_a_repeating_cursor_is_refused(channel, sandbox, tmp_path, request):
    call = case(request, channel, "repeat_cursor")
    error = failure(sandbox, channel, call, tmp_path)
    assert isinstance(error, PaginationError) and error.kind == "pagination" and "repeat" in str(error)
