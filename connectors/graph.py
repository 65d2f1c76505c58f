"""The Graph API family: Meta Ads, Facebook Pages and Instagram.

What the three channels share, in one place:
- the error dialect (`MetaDialect`): throttles are HTTP 400 with codes
  4/17/32/613/80000-80008 and the wait in `X-Business-Use-Case-Usage`;
  code 190 is an expired token; codes 1/2 and `is_transient` are transient;
- auth: the token in the Authorization header, never the `access_token`
  query parameter, so it never appears in a URL (nor in `paging.next`);
- paging: follow `paging.next` (`GRAPH_PAGES`), refusing a repeated cursor;
- timestamps (`GRAPH_TIME`, `2024-05-02T07:00:00+0000`) and the day a daily
  insight value belongs to (`insight_day`);
- ids: digits, kept as strings (`graph_ids`);
- insights: an invalid metric (code 100) fails naming the metric.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import requests

from connectors.base import AccountIds, Connector, OrganicConnector, Values, date_chunks
from connectors.http import ApiClient, ApiError, Dialect, NextUrlPaginator, Verdict, header_value, retry_after

THROTTLE_CODES = {4, 17, 32, 613} | set(range(80000, 80009))
TRANSIENT_CODES = {1, 2}
INVALID_METRIC_CODE = 100
GRAPH_TIME = "%Y-%m-%dT%H:%M:%S%z"  # the Graph API's timestamps: `2024-05-02T07:00:00+0000`

GRAPH_PAGES = NextUrlPaginator(
    next_url=lambda body: (body.get("paging") or {}).get("next"),
    page_cursor=lambda body: ((body.get("paging") or {}).get("cursors") or {}).get("after"),
)


def graph_ids(what: str) -> AccountIds:
    """Graph object ids (Pages, Instagram business accounts): digits only.
    `what` names the id with its article: "a Facebook Page id"."""
    return AccountIds(what, "digits only", r"[0-9]{1,25}")


class MetaDialect(Dialect):
    def classify(self, response: requests.Response, body: Any) -> Verdict:
        error = body.get("error") if isinstance(body, dict) else None
        status = response.status_code
        if status < 400 and not error:
            return Verdict("ok")
        if not isinstance(error, dict):
            return super().classify(response, body)
        code = error.get("code")
        message = str(error.get("message", ""))
        if code in THROTTLE_CODES:
            return Verdict("throttle", status, code, message, _regain_access_seconds(response) or retry_after(response))
        if code == 190:
            return Verdict("auth", status, code, message)
        if "reduce the amount of data" in message.lower():
            return Verdict("permanent", status, code, message)
        if code in TRANSIENT_CODES or error.get("is_transient") or status >= 500:
            return Verdict("retry", status, code, message, retry_after(response))
        return Verdict("permanent", status, code, message)


def _regain_access_seconds(response: requests.Response) -> float | None:
    """Meta's usage header says how many minutes until the throttle lifts."""
    return header_value(response, "X-Business-Use-Case-Usage", _regain_minutes_to_seconds)


def _regain_minutes_to_seconds(raw: str) -> float | None:
    usage = orjson.loads(raw)
    minutes = max(
        float(entry.get("estimated_time_to_regain_access") or 0)
        for entries in usage.values()
        for entry in entries
    )
    return minutes * 60 if minutes > 0 else None


def insight_day(end_time: dt.datetime | None) -> dt.date | None:
    """The local day a daily value belongs to: the day before its end_time
    (none without one: the row is quarantined for its missing date).

    end_time is the following local midnight expressed in UTC; rounding it to
    the nearest UTC midnight recovers that local date for offsets up to 12 h.
    """
    if end_time is None:
        return None
    return (end_time + dt.timedelta(hours=12)).date() - dt.timedelta(days=1)


class GraphConnector(Connector):
    """What the Graph API channels share: Bearer auth, Meta's error dialect,
    cursor paging and naming the metric behind an "invalid metric" error."""

    platform = "Meta"
    default_base_url = "https://graph.facebook.com/v21.0"

    def make_client(self) -> ApiClient:
        return self.bearer_client(MetaDialect())

    def get(self, account: str, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.request_json("GET", path, account=account, params=params)

    def pages(self, account: str, path: str, params: dict[str, Any],
              decode: Callable[[bytes], Any] = orjson.loads) -> Iterator[dict[str, Any]]:
        """Every page of a list or an insights report, following `paging.next`
        (each page read by `decode`, see ApiClient.request_json)."""
        return self.client.paginate("GET", path, GRAPH_PAGES, account=account, params=params, decode=decode)

    def paged(self, account: str, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every item (`data`) of every page."""
        for body in self.pages(account, path, params):
            yield from body.get("data", [])

    def daily_series(self, account: str, path: str, metrics: tuple[str, ...], start: dt.date, end: dt.date,
                     days_per_call: int, v: Values, keep: tuple[str, ...] = ()) -> Iterator[tuple[dict, dict]]:
        """Daily insight values (`period=day`) of [start, end], one row per day and
        metric with its `end_time`, asked in chunks of days_per_call days; `keep`
        names entry fields carried onto the row and the record beside the metric name."""
        for since, until in date_chunks(start, end, days_per_call):
            # `until` is exclusive of days (end_time <= until): a chunk asks until=end+1.
            params = {"period": "day", "since": since.isoformat(), "until": (until + dt.timedelta(days=1)).isoformat()}
            body = self.insights(account, path, metrics, params)
            for entry in body.get("data") or []:
                kept = {name: entry.get(name) for name in keep}
                for point in entry.get("values") or []:
                    end_time = v.timestamp(point.get("end_time"), "end_time", GRAPH_TIME)
                    day = insight_day(end_time)
                    if day is not None and not since <= day <= until:
                        continue  # since/until are instants: a boundary value of a neighbouring day is not ours
                    row = {"date_day": day, "metric": entry.get("name"), **kept,
                           "value": v.int(point.get("value"), str(entry.get("name"))), "end_time": end_time}
                    yield row, {"name": entry.get("name"), **kept, **point}

    def newest_first_since(self, items: Iterator[dict[str, Any]], field: str, stream: str,
                           oldest: dt.datetime) -> Iterator[dict[str, Any]]:
        """The items of a newest-first list until the first older than `oldest`.
        The timestamp is read for the cut-off only: a bad one is the list
        stream's (`stream`) to quarantine, not this one's."""
        for item in items:
            published = Values(self.channel, stream, problems=[]).timestamp(item.get(field), field, GRAPH_TIME)
            if published is not None and published < oldest:
                return  # newest first: the rest is older still
            yield item

    def insights(self, account: str, path: str, metrics: tuple[str, ...], params: dict[str, Any]) -> Any:
        """One insights call; an invalid-metric error is re-raised naming the metric."""
        try:
            return self.get(account, path, {"metric": ",".join(metrics), **params})
        except ApiError as exc:
            # Code 100 is Graph's generic "invalid parameter" (unknown object,
            # bad since/until too): only a message about metrics is ours to explain.
            if exc.kind != "permanent" or exc.code != INVALID_METRIC_CODE or "metric" not in exc.api_message.lower():
                raise
            bad = self._invalid_metrics(exc, metrics, lambda m: self.get(account, path, {"metric": m, **params}))
            if not bad:
                raise
            raise ApiError(
                self.channel, account, exc.endpoint, exc.status, exc.code,
                f"{self.channel}: metric {', '.join(bad)} is not valid any more (removed or renamed by the API). "
                f"API said: {exc.api_message}",
            ) from None

    @staticmethod
    def _invalid_metrics(exc: ApiError, metrics: tuple[str, ...], probe: Callable[[str], Any]) -> list[str]:
        # Instagram names the position: "(#100) metric[2] must be one of the
        # following values: <the valid ones>", so the list after it blames nobody.
        positions = [int(i) for i in re.findall(r"metric\[(\d+)\]", exc.api_message) if int(i) < len(metrics)]
        if positions:
            return [metrics[i] for i in positions]
        message = exc.api_message.split("must be one of", 1)[0]
        named = [m for m in metrics if re.search(rf"\b{re.escape(m)}\b", message)]
        if named:
            return named
        if len(metrics) == 1:
            return list(metrics)
        # The message names nothing: ask for each metric alone.
        bad = []
        for metric in metrics:
            try:
                probe(metric)
            except ApiError as probe_exc:
                if probe_exc.code != INVALID_METRIC_CODE:
                    raise
                bad.append(metric)
        return bad


class MetaOrganicConnector(GraphConnector, OrganicConnector):
    """Meta's organic channels (Facebook Pages, Instagram): an audience whose
    daily insights count its engagements, on Pacific days, beside the
    platform's ads (meta_ads)."""

    day_timezone = "America/Los_Angeles"
    paid_channel = "meta_ads"
    engagements_basis = "account_daily"
