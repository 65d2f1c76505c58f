"""The parsing guards both builders share: non-finite numbers, values too
large for their column, rows without their date or key, the one timestamp
parser; and the HTTP client's origin rule. Small payloads shaped as the APIs
send them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from connectors.base import EPOCH_MS, ISO_8601, MONEY, BatchBuilder, ParseError, Stream, Values, fits
from connectors.columnar import ColumnarBuilder, Wire
from connectors.http import ApiClient, ForeignOriginError, RetryPolicy, origin_of
from connectors.linkedin import campaign_row, day_of_epoch_ms, share_row

NON_FINITE = ["NaN", "nan", "inf", "-inf", "Infinity", "-Infinity", "1e309", "-1e309"]


def collecting(stream: str = "s") -> Values:
    return Values("c", stream, problems=[])


@pytest.mark.parametrize("text", NON_FINITE)
def test_non_finite_numbers_do_not_parse(text):
    values = collecting()
    assert values.float(text, "bounceRate") is None
    assert values.int(text, "impressions") is None
    assert values.decimal(text, "spend") is None
    assert [str(p) for p in values.problems] == [
        f"c.s: column 'bounceRate' got {text!r}: not a finite number",
        f"c.s: column 'impressions' got {text!r}: not an integer",
        f"c.s: column 'spend' got {text!r}: not a decimal number",
    ]


def test_non_finite_json_numbers_do_not_parse():
    values = collecting()
    assert values.float(float("inf"), "x") is None and values.int(float("nan"), "y") is None
    assert len(values.problems) == 2


@pytest.mark.parametrize(("value", "arrow_type", "fit"), [
    (2**63 - 1, pa.int64(), True), (2**63, pa.int64(), False), (-2**63, pa.int64(), True), (-2**63 - 1, pa.int64(), False),
    (Decimal("999999999999.999999"), MONEY, True), (Decimal("12500000000000"), MONEY, False),
    (Decimal("-1000000000000"), MONEY, False), (Decimal("9999999999999999.99"), pa.decimal128(18, 2), True),
    (1e300, pa.float64(), True),
])
def test_fits_is_the_column_types_own_range(value, arrow_type, fit):
    assert fits(value, arrow_type) is fit
    if fit:
        pa.array([value], arrow_type)  # what Arrow accepts
    else:
        with pytest.raises((pa.ArrowInvalid, OverflowError)):
            pa.array([value], arrow_type)


STREAM = Stream("daily", pa.schema([("date_day", pa.date32()), ("campaign_id", pa.string()),
                                    ("impressions", pa.int64()), ("spend", MONEY), ("ctr", pa.float64())]),
                key=("account_id", "date_day", "campaign_id"), date_column="date_day", description="test")
WIRE_SCHEMA = pa.schema([(name, pa.string()) for name in ("date_start", "campaign_id", "impressions", "spend", "ctr")])
WIRE = {"date_day": Wire("date", "date_start"), "impressions": Wire("int", "impressions"),
        "spend": Wire("decimal", "spend"), "ctr": Wire("float", "ctr")}
GOOD = {"date_start": "2024-05-01", "campaign_id": "1", "impressions": "10", "spend": "1.50", "ctr": "0.1"}
BAD = {  # what each bad record's reason names
    "impressions": {**GOOD, "impressions": str(2**63)},
    "spend": {**GOOD, "spend": "12500000000000"},
    "ctr": {**GOOD, "ctr": "NaN"},
    "date_day": {key: value for key, value in GOOD.items() if key != "date_start"},
    "campaign_id": {**GOOD, "campaign_id": None},
}


def columnar_builder(quarantine: list) -> ColumnarBuilder:
    return ColumnarBuilder(STREAM, "a", Values("c", "daily"), quarantine, WIRE_SCHEMA,
                           lambda table: {name: table.column(name) for name in ("campaign_id",)} | {
                               column: table.column(wire.label) for column, wire in WIRE.items()}, WIRE)


def row_builder(quarantine: list) -> BatchBuilder:
    return BatchBuilder(STREAM, "a", Values("c", "daily"), quarantine)


def add_rows(builder: BatchBuilder, records: list[dict]) -> None:
    v = builder.values
    for record in records:
        row = {"date_day": v.date(record.get("date_start"), "date_start"), "campaign_id": record.get("campaign_id"),
               "impressions": v.int(record.get("impressions"), "impressions"),
               "spend": v.decimal(record.get("spend"), "spend"), "ctr": v.float(record.get("ctr"), "ctr")}
        builder.add(row, record)


@pytest.mark.parametrize("path", ["columnar", "row-wise"])
def test_both_builders_quarantine_the_same_bad_records_and_land_the_good_ones(path):
    quarantine: list = []
    records = [GOOD, *BAD.values(), {**GOOD, "campaign_id": "2"}]
    if path == "columnar":
        builder = columnar_builder(quarantine)
        builder.extend(records)
    else:
        builder = row_builder(quarantine)
        add_rows(builder, records)
    batch = builder.flush()
    assert batch.column("campaign_id").to_pylist() == ["1", "2"]
    assert [q.problems[0].column for q in quarantine] == ["impressions", "spend", "ctr", "date_day", "campaign_id"]
    reasons = [q.reason for q in quarantine]
    # The column-wise path names the wire text; the row-wise one the parsed value.
    impressions, spend = (f"'{2**63}'", "'12500000000000'") if path == "columnar" else (
        str(2**63), "Decimal('12500000000000.000000')")
    assert reasons[0] == f"c.daily: column 'impressions' got {impressions}: too large for int64"
    assert reasons[1] == f"c.daily: column 'spend' got {spend}: too large for decimal128(18, 6)"
    assert "got 'NaN': not a finite number" in reasons[2]
    assert "column 'date_day' got None: missing" in reasons[3] and "column 'campaign_id' got None: missing" in reasons[4]


def test_the_columnar_float_path_stays_arrows_when_every_value_is_finite():
    quarantine: list = []
    builder = columnar_builder(quarantine)
    builder.extend([GOOD, {**GOOD, "campaign_id": "2", "ctr": "1e308"}])
    assert builder.flush().column("ctr").to_pylist() == [0.1, 1e308] and quarantine == []


@pytest.mark.parametrize(("value", "formats", "expected"), [
    ("2024-05-13T15:04:05.000Z", (ISO_8601,), dt.datetime(2024, 5, 13, 15, 4, 5, tzinfo=dt.UTC)),  # X
    ("2024-05-13T15:04:05Z", (ISO_8601,), dt.datetime(2024, 5, 13, 15, 4, 5, tzinfo=dt.UTC)),  # YouTube
    ("2024-05-02T07:00:00+0000", ("%Y-%m-%dT%H:%M:%S%z",), dt.datetime(2024, 5, 2, 7, tzinfo=dt.UTC)),  # Graph
    ("Tue May 31 17:46:55 +0800 2011", ("%a %b %d %H:%M:%S %z %Y",),
     dt.datetime(2011, 5, 31, 9, 46, 55, tzinfo=dt.UTC)),  # Weibo
    (1714521600000, (EPOCH_MS,), dt.datetime(2024, 5, 1, tzinfo=dt.UTC)),  # LinkedIn
    ("1714521600000", (EPOCH_MS,), dt.datetime(2024, 5, 1, tzinfo=dt.UTC)),
])
def test_one_timestamp_parser_reads_every_channels_format_as_utc(value, formats, expected):
    values = collecting()
    assert values.timestamp(value, "t", *formats) == expected and values.problems == []


@pytest.mark.parametrize(("value", "formats"), [
    ("2024-05-13T15:04:05", (ISO_8601,)),  # no offset: which day is unknowable
    ("yesterday", (ISO_8601,)), ("2024-02-30T00:00:00+0000", ("%Y-%m-%dT%H:%M:%S%z",)),
    (10**20, (EPOCH_MS,)), (True, (EPOCH_MS,)), ({"start": 1}, (EPOCH_MS,)),
])
def test_a_bad_timestamp_is_a_parse_problem_not_a_crash(value, formats):
    values = collecting()
    assert values.timestamp(value, "t", *formats) is None
    assert len(values.problems) == 1 and "column 't'" in str(values.problems[0])
    with pytest.raises(ParseError):
        Values("c", "s").timestamp(value, "t", *formats)  # outside a builder: raised


def test_linkedin_missing_epoch_milliseconds_are_null_not_a_crash():
    values = collecting("campaigns")
    row = campaign_row({"id": 1, "runSchedule": {"start": None, "end": "soon"}}, values)
    assert row["start_time"] is None and row["end_time"] is None
    assert [p.column for p in values.problems] == ["runSchedule.end"]
    daily = collecting("share_statistics")
    assert day_of_epoch_ms(None, daily, "timeRange.start") is None
    assert share_row({"timeRange": {}}, "1", daily)["date_day"] is None


@pytest.mark.parametrize(("url", "same"), [
    ("https://graph.facebook.com/v21.0/act_1/insights?after=x", True),
    ("https://GRAPH.facebook.com:443/v20.0/act_1", True),
    ("http://graph.facebook.com/v21.0/act_1", False),  # downgraded scheme
    ("https://graph.facebook.com:8443/v21.0/act_1", False),
    ("https://graph.facebook.com.evil.example/v21.0/act_1", False),
    ("https://evil.example/?u=https://graph.facebook.com", False),
    ("https://graph.facebook.com:x/", False),
])
def test_the_origin_is_scheme_host_and_port(url, same):
    assert (origin_of(url) == origin_of("https://graph.facebook.com/v21.0")) is same


def test_a_follow_up_url_to_another_origin_is_refused_before_any_request(scripted, clock):
    client = ApiClient("meta_ads", scripted.url + "/v21.0", headers={"Authorization": "Bearer tok-for-graph"},
                       policy=RetryPolicy(max_retries=0), sleep=clock)
    with pytest.raises(ForeignOriginError) as err:
        client.request_json("GET", "http://localhost:1/v21.0/act_1/insights?after=x", account="act_1")
    assert err.value.foreign_origin == "http://localhost:1"
    assert str(err.value).startswith("meta_ads, account act_1, GET http://localhost:1/v21.0/act_1/insights: ")
    assert scripted.requests == [] and client.stats.calls == 0
