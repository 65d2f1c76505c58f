"""ECB Data Portal (EXR euro reference rates) imitation, mounted at ``/fx``.

Contract (see api-notes section 9)
----------------------------------
* ``GET /service/data/EXR/D.<CUR>[+<CUR>...].EUR.SP00.A?startPeriod=&endPeriod=&format=csvdata``
  -> ``text/csv`` with the ECB csvdata header; one row per currency per TARGET
  business day (no weekends, Jan 1, Good Friday, Easter Monday, May 1,
  Dec 25/26), ordered by currency then date, nothing after today - 1.
  ``OBS_VALUE`` = units of CURRENCY per 1 EUR. An empty currency position
  (``D..EUR.SP00.A``) means every currency, as in SDMX.
* Periods accept YYYY-MM-DD, YYYY-MM or YYYY; a missing bound means "all the
  history the sandbox has" (37 months plus a few days).
* No observations (unknown currency, empty range, other frequency/type) ->
  HTTP 404 with the body ``No results found.``. Unknown currencies listed
  beside known ones are skipped, as the real service does.
* No auth. Errors are plain text.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import re
from http import HTTPStatus
from typing import Any

from .base import TEXT_TYPE, Channel, Request, Response, text_response

CSV_TYPE = "text/csv; charset=utf-8"
COLUMNS = (
    "KEY,FREQ,CURRENCY,CURRENCY_DENOM,EXR_TYPE,EXR_SUFFIX,TIME_PERIOD,OBS_VALUE,OBS_STATUS,OBS_CONF,"
    "OBS_PRE_BREAK,OBS_COM,TIME_FORMAT,BREAKS,COLLECTION,COMPILING_ORG,DISS_ORG,DOM_SER_IDS,PUBL_ECB,"
    "PUBL_MU,PUBL_PUBLIC,UNIT_INDEX_BASE,COMPILATION,COVERAGE,DECIMALS,NAT_TITLE,SOURCE_AGENCY,SOURCE_PUB,"
    "TITLE,TITLE_COMPL,UNIT,UNIT_MULT"
).split(",")
_COL_INDEX = {c: i for i, c in enumerate(COLUMNS)}
_ROUTE_RE = re.compile(r"^/service/data/([A-Za-z0-9_]+)/([^/]*)$")
NO_RESULTS = "No results found."


def _period(value: str | None, *, end: bool) -> dt.date | None:
    """SDMX period bound -> date (start or end of the period)."""
    if value is None or value == "":
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return dt.date.fromisoformat(value)
        if re.fullmatch(r"\d{4}-\d{2}", value):
            y, m = int(value[:4]), int(value[5:])
            return dt.date(y, m, calendar.monthrange(y, m)[1] if end else 1)
        if re.fullmatch(r"\d{4}", value):
            return dt.date(int(value), 12, 31) if end else dt.date(int(value), 1, 1)
    except ValueError:
        pass
    raise ValueError(value)


class Fx(Channel):
    name = "fx"

    def applies(self, fault, req: Request) -> bool:
        if fault.kind in self.generic_fault_kinds:
            return True
        # No auth, no metrics, no cursors here; bad_data corrupts a CSV column.
        return fault.kind == "bad_data" and bool(_ROUTE_RE.match(req.subpath))

    def fault_response(self, fault, req: Request) -> Response:
        p = fault.params
        if fault.kind == "throttle":
            resp = text_response(429, "Too Many Requests")
        elif fault.kind == "server_error":
            status = int(p.get("status", 503))
            try:
                phrase = HTTPStatus(status).phrase
            except ValueError:
                phrase = "Server Error"
            resp = text_response(status, phrase)
        else:  # pragma: no cover - applies() keeps other kinds away
            raise ValueError(fault.kind)
        if "retry_after" in p:
            resp.headers["Retry-After"] = str(p["retry_after"])
        return resp

    def not_found(self, req: Request) -> Response:
        return text_response(404, NO_RESULTS, TEXT_TYPE)

    def internal_error(self, req: Request) -> Response:
        return text_response(500, "Internal Server Error")

    def handle(self, req: Request) -> Response:
        m = _ROUTE_RE.match(req.subpath)
        if m is None or req.method != "GET":
            return self.not_found(req)
        flow, key = m.groups()
        world = req.world
        parts = key.split(".")
        if len(parts) != 5:
            return text_response(400, f"Syntax error: series key {key!r} must have 5 dimensions for EXR")
        freq, currencies, denom, exr_type, suffix = parts
        if flow != "EXR" or freq != "D" or denom != "EUR" or exr_type != "SP00" or suffix != "A":
            return self.not_found(req)
        wanted = sorted(set(currencies.split("+"))) if currencies else sorted(world.fx_currencies)
        known = [c for c in wanted if c in world.fx_currencies]

        fmt = req.params.get("format", "csvdata")
        if fmt != "csvdata":
            return text_response(406, "The sandbox serves format=csvdata only.")
        try:
            start = _period(req.params.get("startPeriod"), end=False) or world.fx_start
            end = _period(req.params.get("endPeriod"), end=True) or world.last_day
        except ValueError as exc:
            return text_response(400, f"Invalid period: {exc}")

        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        n = 0
        overrides = [(_COL_INDEX[b.name], b.value) for b in req.bad_data if b.name in _COL_INDEX and not b.match]
        for cur in known:
            _, decimals, title = world.fx_currencies[cur]
            series = f"EXR.D.{cur}.EUR.SP00.A"
            title = f"{title}/Euro"
            title_compl = f"ECB reference exchange rate, {title}, 2:15 pm (C.E.T.)"
            for day, value in world.fx_observations(cur, start, end):
                row: list[Any] = [
                    series, "D", cur, "EUR", "SP00", "A", day.isoformat(), value, "A", "F",
                    "", "", "P1D", "", "A", "", "", "", "", "", "", "", "", "", decimals, "", "4F0", "",
                    title, title_compl, cur, 0,
                ]
                for i, v in overrides:
                    row[i] = v
                writer.writerow(row)
                n += 1
        if n == 0:
            return self.not_found(req)
        return text_response(200, buf.getvalue(), CSV_TYPE, rows=n)
