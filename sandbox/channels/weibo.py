"""Weibo Open API imitation, mounted at ``/weibo/2``.

Contract (see api-notes section 8)
----------------------------------
* ``GET /2/statuses/user_timeline.json?access_token=..&uid=..&count=1..100&page=N``:
  ``{"statuses": [...], "total_number": N, ...}`` newest first; a page past
  the end has no statuses. Each status carries ``created_at`` like
  "Tue May 31 17:46:55 +0800 2011", the int64 ``id`` (beyond 2**53) beside
  ``idstr``, ``text`` (HTML topic anchors), ``user``, lifetime
  ``reposts_count``/``comments_count``/``attitudes_count``, ``pic_ids`` and a
  ``page_info`` card for video/article/webpage/live; a repost carries the
  original in ``retweeted_status`` (a deleted original has ``deleted: "1"``
  and no ``user``).
* ``GET /2/users/show.json?access_token=..&uid=..``: the user with
  ``followers_count``, ``friends_count``, ``statuses_count``.
* Errors: ``{"request": path, "error_code": ..., "error": ...}``. A wrong
  token is HTTP 401 code 21332; the expired_token fault is HTTP 200 with the
  STRING code "21327"; the throttle fault is HTTP 403 code 10023
  (``params.code`` picks 10022/10024); server_error is ``params.status``
  (default 503) code 10001; an unknown uid is HTTP 400 code 20003.
* Weibo takes no metric list: the remove_metric fault drops that counter from
  every status (or from the user) it serves, as a retired field would vanish.
* Faults: throttle, server_error, stall, truncated, expired_token,
  remove_metric, bad_data (status fields). No repeat_cursor: Weibo pages by
  number, not cursor.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..world_weibo import WEIBO_ACCOUNTS, WeiboStatus, WeiboWorld, weibo_world
from .base import Channel, Request, Response, apply_overrides, json_response

TIMELINE = "/2/statuses/user_timeline.json"
USER_SHOW = "/2/users/show.json"
STATUS_COUNTERS = frozenset({"reposts_count", "comments_count", "attitudes_count"})
USER_COUNTERS = frozenset({"followers_count", "friends_count", "statuses_count"})
_DELETED_SHARE = 0.03
_SOURCE = '<a href="https://app.weibo.com/t/feed/6vtZb0" rel="nofollow">微博 weibo.com</a>'


def _error(status: int, path: str, code: Any, message: str) -> Response:
    return json_response(status, {"request": path, "error_code": code, "error": message})


def _created(moment: dt.datetime) -> str:
    return moment.strftime("%a %b %d %H:%M:%S %z %Y")


class Weibo(Channel):
    name = "weibo"

    def base_url(self, root: str) -> str:
        return f"{root}/{self.name}/2"

    def client_config(self, credential: str) -> dict[str, Any]:
        return {"access_token": credential, "accounts": [a.uid for a in WEIBO_ACCOUNTS], "lookback_days": 7}

    # ------------------------------------------------------------- auth/faults
    def authenticate(self, req: Request) -> Response | None:
        if req.params.get("access_token") == self.token:
            return None
        return _error(401, req.subpath, 21332, "invalid_access_token")

    def applies(self, fault, req: Request) -> bool:
        if fault.kind in self.generic_fault_kinds or fault.kind == "expired_token":
            return True
        if fault.kind == "remove_metric":
            served = STATUS_COUNTERS if req.subpath == TIMELINE else USER_COUNTERS if req.subpath == USER_SHOW else ()
            return fault.params["metric"] in served
        return fault.kind == "bad_data" and req.subpath == TIMELINE

    def fault_response(self, fault, req: Request) -> Response:
        p = fault.params
        if fault.kind == "throttle":
            code = int(p.get("code", 10023))
            message = {10022: "IP requests out of rate limit!", 10024: "User requests for (%s) out of rate limit!"}
            return _error(403, req.subpath, code, message.get(code, "User requests out of rate limit!"))
        if fault.kind == "server_error":
            return _error(int(p.get("status", 503)), req.subpath, 10001, "system error!")
        if fault.kind == "expired_token":
            return _error(200, req.subpath, "21327", "expired_token")
        if fault.kind == "remove_metric":
            # Not an error on Weibo: the counter simply stops being served.
            return self.handle(req, removed=p["metric"])
        raise ValueError(fault.kind)  # pragma: no cover - FaultBook routes only terminal kinds here

    def not_found(self, req: Request) -> Response:
        return _error(404, req.subpath, 10014, "Request api not found!")

    def internal_error(self, req: Request) -> Response:
        return _error(500, req.subpath, 10001, "system error!")

    # --------------------------------------------------------------- handlers
    def handle(self, req: Request, removed: str | None = None) -> Response:
        if req.method != "GET" or req.subpath not in (TIMELINE, USER_SHOW):
            return self.not_found(req)
        ww = weibo_world(req.world)
        uid = req.params.get("uid", "")
        if uid not in ww.accounts:
            return _error(400, req.subpath, 20003, "User does not exists!")
        if req.subpath == USER_SHOW:
            user = self._user(ww, uid, full=True)
            user.pop(removed, None)
            return json_response(200, user, rows=1)
        try:
            count = min(max(int(req.params.get("count", 20)), 1), 100)
            page = max(int(req.params.get("page", 1)), 1)
        except ValueError:
            return _error(400, req.subpath, 10017, "Parameter (count/page)'s value invalid, expect (int)")
        start = (page - 1) * count
        statuses = []
        for n, status in enumerate(ww.timeline(uid)):
            if n >= start + count:
                break
            if n >= start:
                row = self._status(req, ww, status)
                row.pop(removed, None)
                apply_overrides(row, req.bad_data)
                statuses.append(row)
        body = {"statuses": statuses, "advertises": [], "ad": [], "hasvisible": False, "previous_cursor": 0,
                "next_cursor": 0, "total_number": ww.total_number(uid), "interval": 0}
        return json_response(200, body, rows=len(statuses))

    def _user(self, ww: WeiboWorld, uid: str, full: bool = False) -> dict[str, Any]:
        account = ww.accounts[uid]
        user: dict[str, Any] = {"id": int(uid), "idstr": uid, "screen_name": account.screen_name,
                                "name": account.screen_name, "verified": True, "verified_type": 2}
        if full:
            yesterday = ww.world.today - dt.timedelta(days=1)
            u = ww.world.h.u("weibo-user", uid)
            user.update({"followers_count": ww.followers(uid, yesterday), "friends_count": 120 + int(400 * u[0]),
                         "statuses_count": ww.total_number(uid) + int(2_000 * u[1])})
        return user

    def _status(self, req: Request, ww: WeiboWorld, status: WeiboStatus) -> dict[str, Any]:
        row: dict[str, Any] = {
            "created_at": _created(status.created_at), "id": status.id, "idstr": status.idstr,
            "mid": status.idstr, "text": status.text, "source": _SOURCE, "favorited": False,
            "pic_ids": [f"006nw{status.id % 10**9:09d}{k}" for k in range(status.pictures)],
            "user": self._user(ww, status.uid),
            **ww.counts(status),
        }
        if status.content in ("video", "article", "webpage", "live"):
            card: dict[str, Any] = {"type": "video" if status.content in ("video", "live") else status.content,
                                    "object_type": status.content, "page_title": status.text[:20],
                                    "page_url": f"https://weibo.com/{status.uid}/{status.idstr}"}
            if status.video_seconds is not None:
                card["media_info"] = {"duration": status.video_seconds}
            row["page_info"] = card
        if status.original_id is not None:
            original = ww.status(status.original_id)
            if original is None or req.world.h.u("weibo-deleted", status.original_id)[0] < _DELETED_SHARE:
                row["retweeted_status"] = {"created_at": row["created_at"], "id": status.original_id,
                                           "idstr": str(status.original_id), "text": "抱歉，此微博已被作者删除。",
                                           "deleted": "1"}
            else:
                row["retweeted_status"] = self._status(req, ww, original)
        return row
