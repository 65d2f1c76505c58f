"""WeChat Official Account datacube connector: channel `wechat`.

Accounts are official-account appids; the one credential is the app secret.

Streams (raw_wechat.*), all keyed by `ref_date`, a Beijing-time day:
- user_summary:    one row per day and `user_source`: new_user, cancel_user
                   (getusersummary; at most 7 days per call).
- user_cumulate:   one row per day: cumulate_user, the follower total at the end
                   of the day (getusercumulate; at most 7 days per call).
                   Both user streams are pulled through the snapshot date
                   (`Stream.through_snapshot_date`): the newest total and
                   every change since a backfilled window land with it.
- article_summary: one row per day and mass-message article (`msgid` is
                   "<msg_data_id>_<index>"): page readers/reads, sharers/shares,
                   favourites (getarticlesummary; ONE day per call).
- article_total:   one row per mass-message article keyed by the day it was
                   SENT: getarticletotal's `ref_date` is the send date (its
                   `details[].stat_date` are the days read, kept in `_record`),
                   so this is where an article's publish day comes from;
                   `target_user` is the message's recipients (ONE day per call).

Contract and quirks handled (api-notes section 8):
- Auth: GET /cgi-bin/token?grant_type=client_credential&appid=..&secret=..
  returns `access_token` (valid `expires_in` seconds, 7200). The token is cached
  per appid and renewed shortly before it expires. It must travel in the query
  string (`?access_token=`), so it is registered with the redactor, and it is
  attached at send time by a requests auth hook: after a refresh the retried
  request carries the new token, not the one it was built with.
- Errors arrive under HTTP 200 as {"errcode", "errmsg"}: -1 system busy
  (retry), 40001/42001 invalid/expired token (refresh ONCE through the
  client's `refresh_auth` hook, then retry; a second failure is permanent, so
  there is no refresh storm), 45009 daily quota (permanent: it resets at
  midnight Beijing time, waiting is no plan), 45011 per-minute frequency limit
  (throttle, wait a minute; not in api-notes, a documented WeChat code), any
  other errcode permanent with its code and message.
- `end_date` may be at most yesterday: the window is clamped to the day before
  the pull (`snapshot_date`, or Beijing's today if that is earlier) and the
  clamp is logged.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import requests

from connectors.base import AccountIds, ChannelSettings, Fields, OrganicConnector, Stream, UnionModels, Values, date_chunks
from connectors.http import ApiClient, ApiError, Dialect, Verdict, register_secret

CHANNEL = "wechat"
BEIJING = ZoneInfo("Asia/Shanghai")
TOKEN_ERRCODES = {40001, 40014, 42001}  # invalid credential, invalid token, token expired
BUSY_ERRCODE = -1
DAILY_QUOTA_ERRCODE = 45009
MINUTE_QUOTA_ERRCODE = 45011
TOKEN_RENEW_MARGIN = 300.0  # seconds before expiry at which a cached token is renewed

log = logging.getLogger("socialmart.wechat")


@dataclass(frozen=True)
class Endpoint:
    path: str
    max_days: int


ENDPOINTS = {
    "user_summary": Endpoint("/datacube/getusersummary", 7),
    "user_cumulate": Endpoint("/datacube/getusercumulate", 7),
    "article_summary": Endpoint("/datacube/getarticlesummary", 1),
    "article_total": Endpoint("/datacube/getarticletotal", 1),
}


normalize_appid = AccountIds("a WeChat official account appid", "wx + 16 lowercase hex digits", r"wx[0-9a-f]{16}")


class WeChatDialect(Dialect):
    def classify(self, response: requests.Response, body: Any) -> Verdict:
        errcode = body.get("errcode") if isinstance(body, dict) else None
        if response.status_code >= 400 or errcode is None:
            return super().classify(response, body)
        if errcode == 0:
            return Verdict("ok")
        status, message = response.status_code, str(body.get("errmsg", ""))
        if errcode == BUSY_ERRCODE:
            return Verdict("retry", status, errcode, message)
        if errcode in TOKEN_ERRCODES:
            return Verdict("auth", status, errcode, message)
        if errcode == MINUTE_QUOTA_ERRCODE:
            return Verdict("throttle", status, errcode, message, 60.0)
        if errcode == DAILY_QUOTA_ERRCODE:
            return Verdict("permanent", status, errcode,
                           f"daily API quota exhausted (resets at midnight Beijing time): {message}")
        return Verdict("permanent", status, errcode, message)


class _TokenAuth(requests.auth.AuthBase):
    """Adds `access_token=<current token>` when a request is sent."""

    def __init__(self, connector: WeChatConnector, appid: str) -> None:
        self.connector, self.appid = connector, appid

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.prepare_url(request.url, {"access_token": self.connector.access_token(self.appid)})
        return request


_INT = pa.int64()

STREAMS = Stream.by_name(
    Stream.of("user_summary", [("ref_date", pa.date32()), ("user_source", _INT), ("new_user", _INT), ("cancel_user", _INT)],
              key=("ref_date", "user_source"), date_column="ref_date",
              description="New and cancelled followers per Beijing day and acquisition source.",
              required_fields=("new_user", "cancel_user"), through_snapshot_date=True,
              expectations=("nonnegative: new_user, cancel_user", "not_future: ref_date")),
    Stream.of("user_cumulate", [("ref_date", pa.date32()), ("cumulate_user", _INT)], key=("ref_date",), date_column="ref_date",
              description="Follower total at the end of each Beijing day.",
              required_fields=("cumulate_user",), every_day=True, through_snapshot_date=True),
    Stream.of("article_summary", [("ref_date", pa.date32()), ("msgid", pa.string()), ("title", pa.string()),
                                  ("int_page_read_user", _INT), ("int_page_read_count", _INT),
                                  ("ori_page_read_user", _INT), ("ori_page_read_count", _INT),
                                  ("share_user", _INT), ("share_count", _INT), ("add_to_fav_user", _INT), ("add_to_fav_count", _INT)],
              key=("ref_date", "msgid"), date_column="ref_date",
              description="Per-day reads, shares and favourites of each mass-message article."),
    Stream.of("article_total", [("ref_date", pa.date32()), ("msgid", pa.string()), ("title", pa.string()), ("target_user", _INT)],
              key=("ref_date", "msgid"), date_column="ref_date",
              description="Each mass-message article on the Beijing day it was sent, with its recipients.",
              required_fields=("msgid",)),
)
# The integer fields each stream reads as they are named on the wire.
_INT_FIELDS = {name: Fields.snake([f.name for f in s.schema if f.type == _INT]) for name, s in STREAMS.items()}


class WeChatConnector(OrganicConnector):
    channel = CHANNEL
    streams = STREAMS
    default_base_url = "https://api.weixin.qq.com"
    display_name = "WeChat Official Accounts"
    platform = "Tencent"
    day_timezone = "Asia/Shanghai"
    dbt_unions = UnionModels("post_snapshots", intermediate=("account_daily", "posts"), post_daily="stg_wechat__article_daily")
    engagements_basis = "post_daily"
    credential_keys = ("secret",)
    normalize_account = normalize_appid

    def __init__(self, settings: ChannelSettings, **kwargs: Any) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}  # appid -> (token, monotonic expiry)
        self._active_appid: str | None = None  # the account read() is pulling: whose token a refresh renews
        self._fetching_token = False
        super().__init__(settings, **kwargs)

    def make_client(self) -> ApiClient:
        register_secret(self.settings.credentials["secret"])
        return ApiClient(CHANNEL, self.settings.base_url, WeChatDialect(), policy=self.policy, sleep=self.sleep,
                         refresh_auth=self._refresh_active_token)

    # ------------------------------------------------------------------ tokens

    def access_token(self, appid: str) -> str:
        cached = self._tokens.get(appid)
        if cached is None or time.monotonic() >= cached[1]:
            return self._fetch_token(appid)
        return cached[0]

    def _fetch_token(self, appid: str) -> str:
        self._fetching_token = True
        try:
            body = self.client.request_json("GET", "/cgi-bin/token", account=appid, params={
                "grant_type": "client_credential", "appid": appid, "secret": self.settings.credentials["secret"]})
        finally:
            self._fetching_token = False
        token = body.get("access_token")
        if not token:
            raise ApiError(CHANNEL, appid, "GET /cgi-bin/token", 200, None, "the token response carries no access_token")
        register_secret(token)
        lifetime = float(body.get("expires_in") or 7200)
        self._tokens[appid] = (token, time.monotonic() + max(0.0, lifetime - TOKEN_RENEW_MARGIN))
        return token

    def _refresh_active_token(self) -> bool:
        """The client's refresh hook: one fresh token for the account being read.

        Refused while fetching a token: bad appid/secret must fail, not loop.
        """
        if self._fetching_token or self._active_appid is None:
            return False
        self._tokens.pop(self._active_appid, None)
        self._fetch_token(self._active_appid)
        return True

    # ------------------------------------------------------------------ reading

    def last_servable_day(self) -> dt.date:
        beijing_today = dt.datetime.now(BEIJING).date()
        return min(self.snapshot_date, beijing_today) - dt.timedelta(days=1)

    def records(self, stream: str, account: str, start: dt.date, end: dt.date,
                values: Values) -> Iterator[tuple[dict[str, Any], Any]]:
        endpoint = ENDPOINTS[stream]
        last = self.last_servable_day()
        if end > last:
            log.info("%s.%s %s: window end %s clamped to %s (datacube serves finished Beijing days only)",
                     CHANNEL, stream, account, end, last)
            end = last
        self._active_appid = account
        auth = _TokenAuth(self, account)
        try:
            for chunk_start, chunk_end in date_chunks(start, end, endpoint.max_days):
                body = self.client.request_json(
                    "POST", endpoint.path, account=account, auth=auth,
                    json={"begin_date": chunk_start.isoformat(), "end_date": chunk_end.isoformat()},
                )
                for record in body.get("list") or []:
                    yield parse_record(stream, record, values), record
        finally:
            self._active_appid = None


def parse_record(stream: str, record: dict[str, Any], v: Values) -> dict[str, Any]:
    row: dict[str, Any] = {"ref_date": v.date(record.get("ref_date"), "ref_date")}
    if stream == "article_total":
        # target_user is per detail (the same recipients on every stat_date):
        # the send day's entry, the first, speaks for the message.
        details = record.get("details") or [{}]
        row["target_user"] = v.int(details[0].get("target_user"), "details.target_user")
    else:
        row.update(v.fields(record, _INT_FIELDS[stream]))
    if stream in ("article_summary", "article_total"):
        row["msgid"] = None if record.get("msgid") in (None, "") else str(record["msgid"])
        row["title"] = record.get("title")
    return row
