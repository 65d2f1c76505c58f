"""`socialmart check`: test every credential before a night depends on it.

Per channel and account one cheap authenticated read (the first batch of a
dated stream over one settled day: one or two requests, nothing landed), with
the answer as the connector reports it: OK, or the failure naming the HTTP
status, the API's error code and what to fix. Airbyte calls this "test
connection"; here it covers every configured account, not one per source.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from connectors import CONNECTORS
from connectors.base import ChannelSettings, Stream
from connectors.http import ApiError, RetryPolicy, redact
from orchestration.config import ConfigError, Settings


@dataclass
class AccountCheck:
    channel: str
    account: str
    stream: str
    day: dt.date
    seconds: float
    error: str | None = None
    fix: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def probe_stream(channel: str) -> Stream:
    """The stream a check reads: the connector's first dated, non-snapshot
    stream (a day of it is one small request on every API)."""
    streams = CONNECTORS[channel].streams.values()
    return next((s for s in streams if s.date_column and not s.snapshot), next(iter(streams)))


def check_sources(settings: Settings, channel: str | None = None) -> list[AccountCheck]:
    sources = settings.sources
    if channel is not None and channel not in sources:
        raise ConfigError(settings.source, "--channel", f"{channel!r} is not configured (configured: {', '.join(sorted(sources))})")
    # A check should answer in seconds: a throttled or failing API is reported, not waited out.
    policy = RetryPolicy(**{**settings.http.__dict__, "max_retries": min(settings.http.max_retries, 1), "max_throttle_wait": 5})
    results = []
    for name, source in sorted(sources.items()):
        if channel is None or name == channel:
            results += [check_account(source, account, settings.today(), policy) for account in (source.accounts or ["-"])]
    return results


def check_account(source: ChannelSettings, account: str, today: dt.date, policy: RetryPolicy) -> AccountCheck:
    connector_cls = CONNECTORS[source.name]
    stream = probe_stream(source.name)
    day = today - dt.timedelta(days=max(1, connector_cls.expected_lag_days))
    began = time.monotonic()
    result = AccountCheck(source.name, account, stream.name, day, 0.0)
    connector = connector_cls(source, policy=policy, snapshot_date=today)
    try:
        next(iter(connector.read(stream.name, account, day, day)), None)
    except ApiError as err:
        result.error, result.fix = str(err), remedy(source, err)
    except Exception as err:  # noqa: BLE001 - any failure is this account's answer
        result.error = redact(f"{type(err).__name__}: {err}")
        result.fix = f"check channels.{source.name}.base_url ({source.base_url}) and the network"
    finally:
        connector.close()
        result.seconds = time.monotonic() - began
    return result


def remedy(source: ChannelSettings, err: ApiError) -> str:
    """What to fix, from how the connector classified the refusal and its HTTP status."""
    key = f"channels.{source.name}" if source.name != "fx" else "fx"
    credentials = ", ".join(f"{key}.{k}" for k in CONNECTORS[source.name].credential_keys) or "the credentials"
    if err.status == 401 or err.kind == "credentials":  # Meta: HTTP 400 with code 190
        return f"the API refused the credential: renew {credentials} (its environment variable)"
    if err.status == 403:
        return f"the credential lacks a permission or scope for account {err.account or '?'}: grant it, or remove the account from {key}.accounts"
    if err.status in (400, 404) and err.account:
        return f"check the account id {err.account!r} in {key}.accounts, and that the credential can see it"
    if err.status == 429 or err.kind == "throttle":
        return "the API is throttling this credential: try again later; a nightly run waits it out"
    if err.rejected_fields:
        return "the API no longer serves a field socialmart requests: see the connector's notes in docs/api-notes"
    if err.status is None:
        return f"check {key}.base_url ({source.base_url}) and the network"
    return "see the API's error message above"


def render(results: list[AccountCheck]) -> str:
    lines = [f"{'channel':<18}{'account':<26}{'result':<8}{'seconds':>8}  what was read / what failed"]
    for r in results:
        if r.ok:
            lines.append(f"{r.channel:<18}{r.account:<26}{'OK':<8}{r.seconds:>8.2f}  {r.stream} on {r.day}")
        else:
            lines.append(f"{r.channel:<18}{r.account:<26}{'FAILED':<8}{r.seconds:>8.2f}  {r.error}")
            lines.append(f"{'':<52}  fix: {r.fix}")
    failed = sum(not r.ok for r in results)
    lines.append("")
    lines.append(f"{len(results) - failed} of {len(results)} accounts answered"
                 + (f"; {failed} FAILED" if failed else ": every credential works"))
    return "\n".join(lines)
