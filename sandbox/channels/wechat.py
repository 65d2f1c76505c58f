"""WeChat Official Account API imitation, mounted at ``/wechat``.

Contract (see api-notes section 8)
----------------------------------
* ``GET /cgi-bin/token?grant_type=client_credential&appid=..&secret=..``:
  ``{"access_token", "expires_in": 7200}``; the secret is the sandbox token.
  Each call issues a new token (deterministic in seed and call count); issued
  tokens stay valid for the sandbox's life.
* ``POST /datacube/{getusersummary|getusercumulate|getarticlesummary|getarticletotal}?access_token=..``
  with ``{"begin_date", "end_date"}``: ``{"list": [...]}``. Spans: 7 days for
  the user interfaces, 1 for the article interfaces; ``end_date`` must be
  before today (Beijing): otherwise errcode 61501 "date range error".
  getarticletotal lists the articles mass-sent ON ``ref_date`` (the send day),
  each with ``details[]``: one entry per ``stat_date`` read so far (the send
  day and up to six days after, before today), carrying ``target_user`` (the
  message's recipients, the follower total of the send day) and the day's reads.
* Errors are HTTP 200 ``{"errcode", "errmsg"}``: 41001 token missing, 40001
  invalid token, 40013 invalid appid, 40125 invalid secret, 44002 empty body,
  47001 malformed body, 61501 date range error.
* Faults: throttle (45011 per-minute limit; ``params={"errcode": 45009}`` for the
  daily quota), server_error (-1 system busy), expired_token (42001, datacube
  calls only), remove_metric (``params["metric"]`` names a datacube interface,
  answered with 48001 api unauthorized), bad_data (a field of every list row),
  stall, truncated. No cursors: the datacube does not page.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from typing import Any

from ..world_wechat import READ_DAYS, WeChatWorld, wechat_world
from .base import Channel, Request, Response, apply_overrides, json_response

MAX_SPAN = {"getusersummary": 7, "getusercumulate": 7, "getarticlesummary": 1, "getarticletotal": 1}
TOKEN_LIFETIME = 7200
_DATACUBE_RE = re.compile(r"^/datacube/(getusersummary|getusercumulate|getarticlesummary|getarticletotal)$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40013: "invalid appid",
    40125: "invalid appsecret",
    41001: "access_token missing",
    42001: "access_token expired",
    44002: "empty post data",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit  mustslower  retry next minute",
    47001: "data format error",
    48001: "api unauthorized",
    61501: "date range error",
}


class WeChat(Channel):
    name = "wechat"

    def __init__(self, sandbox: Any) -> None:
        super().__init__(sandbox)
        self._lock = threading.Lock()
        self._issued: dict[str, str] = {}  # access token -> appid

    def client_config(self, credential: str) -> dict[str, Any]:
        return {"secret": credential, "accounts": [wechat_world(self.sandbox.world).appid], "lookback_days": 7}

    # --------------------------------------------------------------- errors
    def _error(self, req: Request, errcode: int, detail: str = "") -> Response:
        rid = req.world.h.token("wechat-rid", req.target, n=6).hex()
        message = _ERRMSG[errcode] + (f": {detail}" if detail else "")
        return json_response(200, {"errcode": errcode, "errmsg": f"{message} rid: {rid}"})

    def not_found(self, req: Request) -> Response:
        return json_response(404, {"errcode": 404, "errmsg": "Not Found"})

    def internal_error(self, req: Request) -> Response:
        return self._error(req, -1)

    # ---------------------------------------------------------- auth/faults
    def authenticate(self, req: Request) -> Response | None:
        if req.subpath == "/cgi-bin/token":
            return None  # the token endpoint checks appid and secret itself
        token = req.params.get("access_token")
        if not token:
            return self._error(req, 41001)
        with self._lock:
            known = token in self._issued
        return None if known else self._error(req, 40001)

    def applies(self, fault, req: Request) -> bool:
        if fault.kind in self.generic_fault_kinds:
            return True
        datacube = _DATACUBE_RE.match(req.subpath)
        if fault.kind in ("expired_token", "bad_data"):
            return datacube is not None
        if fault.kind == "remove_metric":
            return datacube is not None and datacube.group(1) == fault.params["metric"]
        return False

    def fault_response(self, fault, req: Request) -> Response:
        if fault.kind == "throttle":
            return self._error(req, int(fault.params.get("errcode", 45011)))
        if fault.kind == "server_error":
            return self._error(req, -1)
        if fault.kind == "expired_token":
            return self._error(req, 42001)
        if fault.kind == "remove_metric":
            return self._error(req, 48001, f"{fault.params['metric']} is not available to this account")
        raise ValueError(fault.kind)  # pragma: no cover - FaultBook only routes terminal kinds here

    # -------------------------------------------------------------- handlers
    def handle(self, req: Request) -> Response:
        world = wechat_world(req.world)
        if req.subpath == "/cgi-bin/token" and req.method == "GET":
            return self._token(req, world)
        datacube = _DATACUBE_RE.match(req.subpath)
        if datacube is None or req.method != "POST":
            return self.not_found(req)
        return self._datacube(req, world, datacube.group(1))

    def _token(self, req: Request, world: WeChatWorld) -> Response:
        p = req.params
        if p.get("grant_type") != "client_credential":
            return self._error(req, 40001, "grant_type must be client_credential")
        if p.get("appid") != world.appid:
            return self._error(req, 40013)
        if p.get("secret") != self.token:
            return self._error(req, 40125)
        with self._lock:
            token = req.world.h.token("wechat-token", world.appid, len(self._issued), n=24).hex()
            self._issued[token] = world.appid
        return json_response(200, {"access_token": token, "expires_in": TOKEN_LIFETIME})

    def _datacube(self, req: Request, world: WeChatWorld, interface: str) -> Response:
        if not req.body:
            return self._error(req, 44002)
        try:
            body = req.json_body
            raw = [str(body.get("begin_date")), str(body.get("end_date"))]
            if not all(_DATE_RE.match(value) for value in raw):
                raise ValueError(raw)
            begin, end = (dt.date.fromisoformat(value) for value in raw)
        except (ValueError, TypeError, AttributeError):
            return self._error(req, 47001)
        if begin > end or (end - begin).days + 1 > MAX_SPAN[interface] or end >= req.world.today:
            return self._error(req, 61501)
        lo, hi = world.served_days(begin, end)
        rows: list[dict[str, Any]] = []
        for ordinal in range(lo.toordinal(), hi.toordinal() + 1):
            day = dt.date.fromordinal(ordinal)
            rows.extend(self._rows(world, interface, day))
        for row in rows:
            apply_overrides(row, req.bad_data)
        return json_response(200, {"list": rows}, rows=len(rows))

    @staticmethod
    def _rows(world: WeChatWorld, interface: str, day: dt.date) -> list[dict[str, Any]]:
        ref = day.isoformat()
        if interface == "getusersummary":
            return [{"ref_date": ref, "user_source": source, "new_user": new, "cancel_user": cancel}
                    for source, new, cancel in world.user_summary(day)]
        if interface == "getusercumulate":
            return [{"ref_date": ref, "cumulate_user": world.cumulate(day)}]
        if interface == "getarticletotal":
            return [{"ref_date": ref, "msgid": article.msgid, "title": article.title,
                     "details": _article_details(world, article)} for article in world.articles_sent(day)]
        return [{"ref_date": ref, "msgid": a.article.msgid, "title": a.article.title, **_article_reads(a)}
                for a in world.article_days(day)]


def _article_reads(a: Any) -> dict[str, int]:
    return {
        "int_page_read_user": a.read_user, "int_page_read_count": a.read_count,
        "ori_page_read_user": a.ori_read_user, "ori_page_read_count": a.ori_read_count,
        "share_user": a.share_user, "share_count": a.share_count,
        "add_to_fav_user": a.fav_user, "add_to_fav_count": a.fav_count,
    }


def _article_details(world: WeChatWorld, article: Any) -> list[dict[str, Any]]:
    """getarticletotal's details: the article's reads per stat_date, send day first."""
    details = []
    for age in range(READ_DAYS):
        stat_date = article.sent_on + dt.timedelta(days=age)
        if stat_date > world.world.last_day:
            break
        for a in world.article_days(stat_date):
            if a.article.msgid == article.msgid:
                details.append({"stat_date": stat_date.isoformat(), "target_user": world.cumulate(article.sent_on),
                                **_article_reads(a)})
    return details
