"""Wire-format quirks of meta_ads, ga4 and fx, on payloads shaped as api-notes shows them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import orjson
import pyarrow as pa
import pytest

from connectors.base import ChannelSettings, ParseError, Values
from connectors.columnar import ColumnarBuilder
from connectors.fx import complete_csv, parse_csv
from connectors.ga4 import decode_report, normalize_property_id, parse_report, read_page, traffic_builder
from connectors.meta_ads import INSIGHT_WIRE_SCHEMA, MetaAdsConnector, _ad_row, normalize_account_id
from connectors.meta_ads import STREAMS as META_STREAMS

META_ROW = {
    "account_id": "123456789", "campaign_id": "120200000000000001", "campaign_name": "Spring Sale",
    "date_start": "2024-05-01", "date_stop": "2024-05-01", "spend": "153.27", "impressions": "48210",
    "reach": "30112", "clicks": "912",
    "actions": [
        {"action_type": "link_click", "value": "640"}, {"action_type": "purchase", "value": "14"},
        {"action_type": "omni_purchase", "value": "14"},
        {"action_type": "offsite_conversion.fb_pixel_purchase", "value": "14"},
    ],
    "action_values": [{"action_type": "purchase", "value": "1742.50"}],
}


def meta(**options) -> MetaAdsConnector:
    settings = ChannelSettings("meta_ads", "http://127.0.0.1:9", ["act_1"], {"access_token": "t"}, 28, options)
    return MetaAdsConnector(settings)


def landed(builder: ColumnarBuilder, records, *side) -> list[dict]:
    """Records through the stream's batch builder, as `read` lands them; a
    value that does not parse raises its ParseError here."""
    builder.extend(list(records), *side)
    batch = builder.flush()
    if builder.quarantine:
        raise builder.quarantine[0].problems[0]
    return batch.to_pylist() if batch is not None else []


def insight(connector: MetaAdsConnector, record: dict) -> dict:
    builder = ColumnarBuilder(META_STREAMS["insights"], "act_1", Values("meta_ads", "insights"), [],
                              INSIGHT_WIRE_SCHEMA, connector.insight_columns, connector.insight_wire())
    return landed(builder, [record])[0]


def ga4_rows(page: dict) -> list[dict]:
    builder = traffic_builder("1", [])
    metadata = page.get("metadata") or {}
    return landed(builder, parse_report(page, builder.values), (metadata.get("currencyCode"), metadata.get("timeZone")))


def test_meta_insight_numbers_are_typed_and_one_purchase_counts_once():
    row = insight(meta(), META_ROW)
    assert row["date_day"] == dt.date(2024, 5, 1)
    assert row["spend"] == Decimal("153.27") and row["impressions"] == 48210 and row["clicks"] == 912
    assert row["link_clicks"] == 640
    # purchase, omni_purchase and the pixel purchase are ONE event: 14, not 42.
    assert row["conversions"] == Decimal("14") and row["conversion_value"] == Decimal("1742.50")


def test_meta_conversion_action_type_is_configurable():
    row = insight(meta(conversion_action_type="offsite_conversion.fb_pixel_purchase"), META_ROW)
    assert row["conversions"] == Decimal("14") and row["conversion_value"] == Decimal("0")


def test_meta_omitted_actions_mean_zero_not_null():
    record = {k: v for k, v in META_ROW.items() if k not in ("actions", "action_values")}
    row = insight(meta(), record)
    assert row["conversions"] == 0 and row["conversion_value"] == 0 and row["link_clicks"] == 0


def test_meta_unparseable_number_names_the_column():
    with pytest.raises(ParseError, match="spend"):
        insight(meta(), {**META_ROW, "spend": "12,5"})


def test_meta_url_tags_give_utm_values_and_missing_tags_give_nulls():
    tagged = _ad_row({"id": "1", "campaign_id": "9", "creative": {"id": "c", "url_tags": "utm_source=facebook&utm_medium=paid_social&utm_campaign=spring_sale"}}, Values("meta_ads", "ads"))  # noqa: E501
    assert (tagged["utm_source"], tagged["utm_medium"], tagged["utm_campaign"]) == ("facebook", "paid_social", "spring_sale")
    untagged = _ad_row({"id": "2", "campaign_id": "9", "creative": {"id": "c"}}, Values("meta_ads", "ads"))
    assert untagged["utm_campaign"] is None and untagged["url_tags"] is None


@pytest.mark.parametrize("raw,expected", [("act_123", "act_123"), ("123", "act_123"), (" act_9 ", "act_9")])
def test_meta_account_ids_normalize(raw, expected):
    assert normalize_account_id(raw) == expected


@pytest.mark.parametrize("raw", ["act_1; DROP TABLE x", "act_$(rm -rf /)", "act_", "abc", "act_1'--"])
def test_meta_account_ids_refuse_metacharacters(raw):
    with pytest.raises(ValueError):
        normalize_account_id(raw)


GA4_PAGE = {
    # Metric headers deliberately in another order than requested: positions come from headers.
    "dimensionHeaders": [{"name": "sessionSource"}, {"name": "date"}, {"name": "sessionMedium"}, {"name": "sessionCampaignName"}, {"name": "landingPage"}],
    "metricHeaders": [
        {"name": "totalRevenue", "type": "TYPE_CURRENCY"}, {"name": "sessions", "type": "TYPE_INTEGER"},
        {"name": "engagedSessions", "type": "TYPE_INTEGER"}, {"name": "bounceRate", "type": "TYPE_FLOAT"},
        {"name": "keyEvents", "type": "TYPE_FLOAT"},
    ],
    "rows": [
        {"dimensionValues": [{"value": "facebook"}, {"value": "20240501"}, {"value": "paid_social"}, {"value": "spring_sale"}, {"value": "/pricing"}],
         "metricValues": [{"value": "1520.5"}, {"value": "412"}, {"value": "242"}, {"value": "0.4126"}, {"value": "17"}]},
        {"dimensionValues": [{"value": "(other)"}, {"value": "20240501"}, {"value": "(other)"}, {"value": "(not set)"}, {"value": "(other)"}],
         "metricValues": [{"value": "0"}, {"value": "3"}, {"value": "1"}, {"value": "0.6667"}, {"value": "0.0"}]},
    ],
    "rowCount": 2, "metadata": {"currencyCode": "USD", "timeZone": "America/Los_Angeles"}, "kind": "analyticsData#runReport",
}


def test_ga4_rows_are_read_through_their_headers():
    first, other = ga4_rows(GA4_PAGE)
    record = orjson.loads(first["_record"])
    assert first["date_day"] == dt.date(2024, 5, 1)
    assert (first["session_source"], first["session_medium"], first["session_campaign_name"], first["landing_page"]) == ("facebook", "paid_social", "spring_sale", "/pricing")  # noqa: E501
    assert first["sessions"] == 412 and first["engaged_sessions"] == 242 and first["key_events"] == 17.0
    assert first["total_revenue"] == Decimal("1520.5") and first["bounce_rate"] == pytest.approx(0.4126)
    assert first["currency_code"] == "USD" and first["time_zone"] == "America/Los_Angeles"
    assert record["dimensions"]["sessionSource"] == "facebook"
    assert other["session_source"] == "(other)" and other["session_campaign_name"] == "(not set)"


def test_ga4_empty_report_omits_rows():
    assert list(parse_report({"dimensionHeaders": [], "metricHeaders": [], "metadata": {}}, Values("ga4", "traffic"))) == []


def test_ga4_removed_metric_is_named():
    page = {**GA4_PAGE, "metricHeaders": GA4_PAGE["metricHeaders"][:4], "rows": [{"dimensionValues": GA4_PAGE["rows"][0]["dimensionValues"], "metricValues": GA4_PAGE["rows"][0]["metricValues"][:4]}]}  # noqa: E501
    with pytest.raises(ParseError, match="keyEvents"):
        list(parse_report(page, Values("ga4", "traffic")))


def test_ga4_property_ids():
    assert normalize_property_id("properties/123456") == "123456"
    with pytest.raises(ValueError):
        normalize_property_id("123 OR 1=1")


def _column_wise(page: dict) -> list[dict]:
    builder = traffic_builder("1", [])
    side = ((page.get("metadata") or {}).get("currencyCode"), (page.get("metadata") or {}).get("timeZone"))
    read = read_page(page, builder.values)
    if read is None:
        builder.extend(parse_report(page, builder.values), side)
    else:
        builder.extend_read(*read, side)
    batch = builder.flush()
    return batch.to_pylist() if batch is not None else []


@pytest.mark.parametrize("indent", [False, True], ids=["compact", "pretty-printed"])
def test_ga4_answers_decoded_into_arrow_land_as_their_json(indent):
    # The answer's bytes go straight to Arrow (no Python object per value):
    # the same rows and records as the parsed JSON, whatever its layout.
    content = orjson.dumps(GA4_PAGE, option=orjson.OPT_INDENT_2 if indent else 0)
    decoded = decode_report(content)
    assert isinstance(decoded["rows"], pa.Array) and decoded["rowCount"] == 2
    assert decoded["metadata"] == GA4_PAGE["metadata"] and decoded["metricHeaders"] == GA4_PAGE["metricHeaders"]
    assert _column_wise(decoded) == _column_wise(GA4_PAGE) == ga4_rows(GA4_PAGE)
    assert ga4_rows(decoded) == ga4_rows(GA4_PAGE)  # the record-by-record reader takes it too


def test_ga4_answers_arrow_cannot_type_are_read_as_json():
    # A number where GA4 sends strings: JSON semantics (its text), by the JSON path.
    odd = {**GA4_PAGE, "rows": [{**GA4_PAGE["rows"][0], "metricValues": [{"value": 1520.5}, *GA4_PAGE["rows"][0]["metricValues"][1:]]}]}
    decoded = decode_report(orjson.dumps(odd))
    assert isinstance(decoded["rows"], list)
    assert _column_wise(decoded)[0]["total_revenue"] == Decimal("1520.5")
    empty = decode_report(orjson.dumps({k: v for k, v in GA4_PAGE.items() if k != "rows"}))
    assert "rows" not in empty and _column_wise(empty) == []
    with pytest.raises(ValueError):
        decode_report(b'{"rows": [')  # a cut-off transfer: the client retries it


ECB_CSV = """KEY,FREQ,CURRENCY,CURRENCY_DENOM,EXR_TYPE,EXR_SUFFIX,TIME_PERIOD,OBS_VALUE,OBS_STATUS
EXR.D.GBP.EUR.SP00.A,D,GBP,EUR,SP00,A,2024-05-02,0.8554,A
EXR.D.USD.EUR.SP00.A,D,USD,EUR,SP00,A,2024-05-02,1.0702,A
EXR.D.USD.EUR.SP00.A,D,USD,EUR,SP00,A,2024-05-03,1.0745,A
"""


def test_ecb_csv_gives_units_per_euro():
    rows = [row for row, _ in parse_csv(ECB_CSV, Values("fx", "ecb_rates"))]
    assert len(rows) == 3
    assert rows[1] == {"rate_date": dt.date(2024, 5, 2), "currency": "USD", "rate_per_eur": Decimal("1.070200")}


def test_an_ecb_csv_cut_anywhere_but_a_rows_end_is_refused_as_cut_off():
    # csvdata ends every row with a line break (the ECB writes CRLF); a body
    # cut in transit still parses, its last value clipped (1.0745 as 1.07).
    whole = ECB_CSV.replace("\n", "\r\n").encode()
    assert complete_csv(whole) == whole.decode()
    row_ends = {i + 1 for i, byte in enumerate(whole) if byte == ord("\n")}
    for cut in range(1, len(whole)):
        if cut in row_ends:
            continue  # whole rows: not detectable from the body alone
        with pytest.raises(ValueError):
            complete_csv(whole[:cut])


def test_ga4_pages_read_column_wise_land_as_record_by_record():
    # Escaping-free text takes the column-wise path; a value JSON must escape
    # sends its page record by record. Both land the same rows and records.
    plain = GA4_PAGE
    quoted = {**GA4_PAGE, "rows": [GA4_PAGE["rows"][0], {**GA4_PAGE["rows"][1], "dimensionValues": [
        {"value": "(other)"}, {"value": "20240501"}, {"value": "(other)"}, {"value": 'say "hi"\n'}, {"value": "(other)"}]}]}
    assert read_page(plain, Values("ga4", "traffic")) is not None and read_page(quoted, Values("ga4", "traffic")) is None
    for page in (plain, quoted):
        side = ((page.get("metadata") or {}).get("currencyCode"), (page.get("metadata") or {}).get("timeZone"))
        by_record = traffic_builder("1", [])
        by_record.extend(parse_report(page, by_record.values), side)
        column_wise = traffic_builder("1", [])
        read = read_page(page, column_wise.values)
        if read is None:
            column_wise.extend(parse_report(page, column_wise.values), side)
        else:
            column_wise.extend_read(*read, side)
        assert column_wise.flush().to_pylist() == by_record.flush().to_pylist()
