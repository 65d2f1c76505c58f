"""Google Analytics 4 Data API connector: channel `ga4`.

Stream (raw_ga4.*):
- traffic: one row per property-local day x sessionSource x sessionMedium x
  sessionCampaignName x landingPage: sessions, engagedSessions, bounceRate (kept
  as sent, never aggregated: marts recompute it from sums), keyEvents,
  totalRevenue, with the property's currency and time zone from the response
  metadata on every row.

Wire quirks handled (api-notes section 7): rows are positional, read through
`dimensionHeaders`/`metricHeaders`; every value is a string; `date` is YYYYMMDD;
paging is offset/limit against `rowCount`; a response with no rows omits
`rows`; `(not set)` and `(other)` rows are kept as they are. Throttling arrives
as 429 RESOURCE_EXHAUSTED (hourly quota: wait; daily quota: give up clearly).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from connectors.base import MONEY, AccountIds, Fields, ParseError, Quarantined, Stream, UnionModels, Values
from connectors.columnar import ColumnarBuilder, Wire
from connectors.google import GoogleConnector
from connectors.http import OffsetPaginator, prefetched

CHANNEL = "ga4"
PAGE_LIMIT = 100_000  # the API allows 250,000; smaller pages keep memory flat

DIMENSIONS = {
    "date": "date_day",
    "sessionSource": "session_source",
    "sessionMedium": "session_medium",
    "sessionCampaignName": "session_campaign_name",
    "landingPage": "landing_page",
}
METRICS = Fields.snake(("sessions", "engagedSessions", "bounceRate", "keyEvents", "totalRevenue"),
                       bounceRate="float", keyEvents="float", totalRevenue="decimal")


normalize_property_id = AccountIds("a GA4 property id", "digits", r"[0-9]{1,20}", accepted_prefix="properties/")
# offset/limit in the request body against the response's `rowCount`.
REPORT_PAGES = OffsetPaginator(page_rows=lambda body: len(body.get("rows") or []),
                               total_rows=lambda body: int(body.get("rowCount") or 0), in_json=True)


STREAMS = {
    "traffic": Stream(
        "traffic",
        pa.schema([
            ("date_day", pa.date32()), ("session_source", pa.string()), ("session_medium", pa.string()),
            ("session_campaign_name", pa.string()), ("landing_page", pa.string()),
            ("sessions", pa.int64()), ("engaged_sessions", pa.int64()), ("bounce_rate", pa.float64()),
            ("key_events", pa.float64()), ("total_revenue", MONEY),
            ("currency_code", pa.string()), ("time_zone", pa.string()),
        ]),
        key=("account_id", "date_day", "session_source", "session_medium", "session_campaign_name", "landing_page"),
        date_column="date_day",
        description="Sessions by property-local day, source, medium, campaign and landing page.",
        required_fields=("metrics.sessions", "metrics.engagedSessions", "metrics.keyEvents", "metrics.totalRevenue"),
        every_day=True,
        expectations=("nonnegative: sessions, engaged_sessions, key_events, total_revenue",
                      "at_most: engaged_sessions <= sessions", "rate: bounce_rate", "currency: currency_code",
                      "not_future: date_day"),
    ),
}


class Ga4Connector(GoogleConnector):
    channel = CHANNEL
    streams = STREAMS
    default_base_url = "https://analyticsdata.googleapis.com/v1beta"
    kind = "web"
    display_name = "Google Analytics 4"
    dbt_unions = UnionModels(intermediate=("web_properties",))
    # GA4 processes a day for 24-48 h before it settles.
    expected_lag_days = 2
    normalize_account = normalize_property_id

    def read(self, stream: str, account: str, start: dt.date, end: dt.date) -> Iterator[pa.RecordBatch]:
        if stream not in STREAMS:
            raise KeyError(stream)
        prop = normalize_property_id(account)
        # Traffic parses a batch at a time (connectors.columnar): the volume stream.
        builder = traffic_builder(prop, self.quarantined)
        request = {
            "dateRanges": [{"startDate": start.isoformat(), "endDate": end.isoformat()}],
            "dimensions": [{"name": name} for name in DIMENSIONS],
            "metrics": [{"name": name} for name in METRICS],
            "limit": PAGE_LIMIT,
            "returnPropertyQuota": True,
        }
        pages = self.client.paginate("POST", f"/properties/{prop}:runReport", REPORT_PAGES, account=prop, json=request,
                                     decode=decode_report)
        # The next page is fetched and decoded (Arrow's JSON reader, which
        # lets go of the GIL) while this one is parsed.
        for body in prefetched(pages):
            metadata = body.get("metadata") or {}
            page = (metadata.get("currencyCode"), metadata.get("timeZone"))
            read = read_page(body, builder.values)
            if read is not None:
                builder.extend_read(*read, page)
            else:
                builder.extend(parse_report(body, builder.values), page)
            if builder.full():
                yield builder.flush()
        batch = builder.flush()
        if batch is not None:
            yield batch

# The record (values named by their headers) as the columnar builder reads it.
TRAFFIC_WIRE_SCHEMA = pa.schema([
    ("dimensions", pa.struct([(name, pa.string()) for name in DIMENSIONS])),
    ("metrics", pa.struct([(name, pa.string()) for name in METRICS])),
])
# The date and the metrics parse from their wire strings.
WIRE = {
    "date_day": Wire("date", "date", "%Y%m%d"),
    **{column: Wire(kind, api_name) for api_name, (column, kind) in METRICS.items()},
}


def traffic_builder(prop: str, quarantine: list[Quarantined]) -> ColumnarBuilder:
    """Batches of the traffic stream from runReport records; each record comes
    with its page's currency and time zone (the response metadata)."""
    return ColumnarBuilder(STREAMS["traffic"], prop, Values(CHANNEL, "traffic"), quarantine, TRAFFIC_WIRE_SCHEMA,
                           traffic_columns, WIRE, side_columns=("currency_code", "time_zone"))


def traffic_columns(records: pa.Table) -> dict[str, pa.Array]:
    dimensions = records.column("dimensions").combine_chunks()
    metrics = records.column("metrics").combine_chunks()
    return {
        **{column: dimensions.field(api_name) for api_name, column in DIMENSIONS.items()},
        **{column: metrics.field(api_name) for api_name, (column, _) in METRICS.items()},
    }


def parse_report(body: dict[str, Any], v: Values) -> list[dict[str, Any]]:
    """The records of one runReport page, their positional values named by
    the headers: {"dimensions": {...}, "metrics": {...}}.

    Positions come from the headers: GA4 answers in the requested order, but a
    reader that assumes it breaks the day a request changes.
    """
    dim_names, metric_names = _headers(body, v)
    rows = body.get("rows")
    return [
        {
            "dimensions": dict(zip(dim_names, [d.get("value") for d in record.get("dimensionValues") or []], strict=False)),
            "metrics": dict(zip(metric_names, [m.get("value") for m in record.get("metricValues") or []], strict=False)),
        }
        for record in (rows.to_pylist() if isinstance(rows, pa.Array) else rows or [])
    ]


def _headers(body: dict[str, Any], v: Values) -> tuple[list[str], list[str]]:
    dim_names = [h["name"] for h in body.get("dimensionHeaders", [])]
    metric_names = [h["name"] for h in body.get("metricHeaders", [])]
    if body.get("rows"):
        for missing in (m for m in METRICS if m not in metric_names):
            raise ParseError(v.channel, v.stream, missing, None, f"the report no longer carries this metric (got {metric_names})")
    return dim_names, metric_names


_POSITIONAL = pa.list_(pa.struct([("value", pa.string())]))
_ROW = pa.struct([("dimensionValues", _POSITIONAL), ("metricValues", _POSITIONAL)])
# A runReport answer as Arrow's JSON reader reads it: the rows typed, the
# other (small) fields as inferred; one JSON object spanning any lines.
_REPORT_OPTIONS = pajson.ParseOptions(explicit_schema=pa.schema([("rows", pa.list_(_ROW))]), newlines_in_values=True)
_NEEDS_ESCAPING = r'[\x00-\x1f"\\]'  # what JSON escapes in a string


def decode_report(content: bytes) -> dict[str, Any]:
    """A runReport answer as a dict whose `rows` is an Arrow array (of _ROW):
    the page's values never become Python objects. A page Arrow reads
    otherwise than JSON would (a number where GA4 sends strings) comes back
    as plain JSON, with `rows` a list: read_page and parse_report take both."""
    try:
        table = pajson.read_json(io.BytesIO(content), read_options=pajson.ReadOptions(block_size=len(content) + 1),
                                 parse_options=_REPORT_OPTIONS)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return orjson.loads(content)
    if table.num_rows != 1:
        return orjson.loads(content)  # not one JSON object
    body = {name: table.column(name)[0].as_py() for name in table.column_names if name != "rows"}
    rows = table.column("rows")[0]
    if rows.is_valid:  # a report without rows omits the key
        body["rows"] = rows.values
    return body


def read_page(body: dict[str, Any], v: Values) -> tuple[pa.Table, pa.Array] | None:
    """The page's records read column-wise: TRAFFIC_WIRE_SCHEMA's columns and
    each record's JSON, the very text `parse_report`'s records serialise to.

    The volume path: Arrow walks the page (`decode_report`'s rows, or a
    JSON page's), no dict per record. None when the page needs
    `parse_report` instead: values that are not strings, rows that do not
    match the headers, or text JSON has to escape (rare, never wrong:
    parse_report reads any page).
    """
    dim_names, metric_names = _headers(body, v)
    if len(set(dim_names)) < len(dim_names) or len(set(metric_names)) < len(metric_names):
        return None
    rows = body.get("rows")
    if not isinstance(rows, pa.StructArray):
        try:
            rows = pa.array(rows or [], _ROW)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None
    if rows.null_count:
        return None
    named: dict[str, dict[str, pa.Array]] = {}
    for key, column, names in (("dimensions", "dimensionValues", dim_names), ("metrics", "metricValues", metric_names)):
        lists = rows.field(column)
        if lists.null_count or pc.any(pc.not_equal(pc.list_value_length(lists), len(names))).as_py():
            return None
        entries = lists.flatten()  # every row's len(names) values, row after row
        values = entries.field("value")
        if entries.null_count or pc.any(pc.match_substring_regex(values, _NEEDS_ESCAPING)).as_py():
            return None
        positions = np.arange(len(rows)) * len(names)
        named[key] = {name: values.take(positions + i) for i, name in enumerate(names)}
    n = len(rows)
    table = pa.table({
        "dimensions": pa.StructArray.from_arrays(
            [named["dimensions"].get(name, pa.nulls(n, pa.string())) for name in DIMENSIONS], names=list(DIMENSIONS)),
        "metrics": pa.StructArray.from_arrays(
            [named["metrics"].get(name, pa.nulls(n, pa.string())) for name in METRICS], names=list(METRICS)),
    }, schema=TRAFFIC_WIRE_SCHEMA)
    return table, _records_json(named, n)


def _records_json(named: dict[str, dict[str, pa.Array]], n: int) -> pa.Array:
    """{"dimensions": {...}, "metrics": {...}} per row, as orjson writes it (no escaping needed: checked)."""
    pieces: list[Any] = ["{"]
    for k, (key, values) in enumerate(named.items()):
        pieces.append(("," if k else "") + orjson.dumps(key).decode() + ":{")
        for i, (name, column) in enumerate(values.items()):
            text = pc.if_else(pc.is_valid(column), pc.binary_join_element_wise('"', column, '"', ""),
                              pa.scalar("null", pa.string()))
            pieces += [("," if i else "") + orjson.dumps(name).decode() + ":", text]
        pieces.append("}")
    pieces.append("}")
    if n == 0:
        return pa.array([], pa.string())
    return pc.binary_join_element_wise(*pieces, "")
