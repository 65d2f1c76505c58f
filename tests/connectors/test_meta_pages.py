"""Meta insights pages decoded from their bytes (`decode_insights`) land
exactly as the parsed JSON does: the same typed rows, the same `_record`
texts, the same quarantined records, the same paging. Pages shaped as
Meta documents them (api-notes section 1) and a recorded public one; the
accounts' pages pulled in turn, a window Meta finds too big halved."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from connectors.base import ChannelSettings, Values
from connectors.columnar import ColumnarBuilder, RecordTexts, split_records
from connectors.http import ApiError
from connectors.meta_ads import INSIGHT_WIRE_SCHEMA, STREAMS, MetaAdsConnector, decode_insights

# Recorded by Airbyte's source-facebook-marketing connector for its unit tests
# (airbytehq/airbyte, airbyte-integrations/connectors/source-facebook-marketing/
# unit_tests/resource/http/response/ads_insights_action_product_id.json): an
# ad-level insights page with action breakdowns by attribution window,
# pretty-printed as stored there.
AIRBYTE_PAGE = (Path(__file__).parent / "fixtures" / "meta_insights_airbyte_action_product_id.json").read_bytes()

# The page api-notes section 1 shows, as the Graph API writes it: compact, and
# with the slashes of `paging.next` escaped.
DOCUMENTED_PAGE = (
    b'{"data":[{"account_id":"123456789","campaign_id":"120200000000000001","campaign_name":"Spring Sale",'
    b'"date_start":"2024-05-01","date_stop":"2024-05-01","spend":"153.27","impressions":"48210","reach":"30112",'
    b'"clicks":"912","actions":[{"action_type":"link_click","value":"640"},{"action_type":"purchase","value":"14"},'
    b'{"action_type":"omni_purchase","value":"14"},{"action_type":"offsite_conversion.fb_pixel_purchase","value":"14"}],'
    b'"action_values":[{"action_type":"purchase","value":"1742.50"}]}],'
    b'"paging":{"cursors":{"before":"MAZDZD","after":"MjQZD"},'
    b'"next":"https:\\/\\/graph.facebook.com\\/v21.0\\/act_123456789\\/insights?limit=500&after=MjQZD"}}'
)


def _compact(page: bytes) -> bytes:
    return orjson.dumps(orjson.loads(page))


def _edit(page: bytes, row: int, **fields) -> bytes:
    body = orjson.loads(page)
    body["data"][row].update(fields)
    return orjson.dumps(body)


def _landed(records) -> tuple[list[dict], list[tuple]]:
    connector = MetaAdsConnector(ChannelSettings("meta_ads", "http://127.0.0.1:9", ["act_1"], {"access_token": "t"}, 28, {}))
    quarantine: list = []
    builder = ColumnarBuilder(STREAMS["insights"], "act_1", Values("meta_ads", "insights"), quarantine,
                              INSIGHT_WIRE_SCHEMA, connector.insight_columns, connector.insight_wire())
    builder.extend(records)
    batch = builder.flush()
    return (batch.to_pylist() if batch is not None else []), [(q.reason, q.record) for q in quarantine]


PAGES = {
    "documented": DOCUMENTED_PAGE,
    "airbyte recorded, as stored": AIRBYTE_PAGE,
    "airbyte recorded, compact": _compact(AIRBYTE_PAGE),
    # Text the API escapes, and a name outside ASCII.
    "escapes": _edit(DOCUMENTED_PAGE, 0, campaign_name='Sale "50%" \\ tab\tend', campaign_id="1\u00e9"),
    # A number where Meta sends strings: JSON's semantics (its text), by the record-by-record path.
    "number": _edit(DOCUMENTED_PAGE, 0, spend=12.5, extra=[1, True, None]),
    # A value that does not parse: the record is quarantined.
    "bad value": _edit(DOCUMENTED_PAGE, 0, spend="12,5"),
    "empty": b'{"data":[],"paging":{"cursors":{"before":"MAZDZD","after":"MAZDZD"}}}',
}


@pytest.mark.parametrize("name", PAGES)
def test_insight_pages_decoded_from_bytes_land_as_their_json(name):
    content = PAGES[name]
    parsed = orjson.loads(content)
    decoded = decode_insights(content)
    assert decoded["paging"] == parsed["paging"]  # what the paginator follows
    assert _landed(decoded["data"]) == _landed(parsed["data"])


def test_compact_pages_are_cut_out_of_their_bytes_and_others_parsed():
    for content in (DOCUMENTED_PAGE, _compact(AIRBYTE_PAGE), PAGES["escapes"], PAGES["number"]):
        assert isinstance(decode_insights(content)["data"], RecordTexts)
    assert not isinstance(decode_insights(AIRBYTE_PAGE)["data"], RecordTexts)  # pretty-printed: parsed
    # The records' texts are orjson's, whatever the API wrote: `_record` does not depend on the path.
    _, lines = split_records(PAGES["escapes"], "data")
    assert lines == [orjson.dumps(record) for record in orjson.loads(PAGES["escapes"])["data"]]


def test_documented_page_types_its_values_and_counts_one_purchase_once():
    [row], quarantined = _landed(decode_insights(DOCUMENTED_PAGE)["data"])
    assert not quarantined
    assert row["date_day"] == dt.date(2024, 5, 1) and row["spend"] == Decimal("153.27") and row["reach"] == 30112
    assert row["link_clicks"] == 640 and row["conversions"] == Decimal("14") and row["conversion_value"] == Decimal("1742.50")
    assert orjson.loads(row["_record"]) == orjson.loads(DOCUMENTED_PAGE)["data"][0]


def test_recorded_page_reads_actions_with_attribution_breakdowns():
    # Each action carries its attribution windows beside `value`; a type that
    # is not there (no link_click in the first row, no action_values) is zero, not null.
    rows, quarantined = _landed(decode_insights(_compact(AIRBYTE_PAGE))["data"])
    assert not quarantined
    assert [(r["spend"], r["impressions"], r["clicks"], r["link_clicks"]) for r in rows] == [
        (Decimal("14.35"), 185, 9, 0), (Decimal("8.53"), 171, 7, 4)]
    assert all(r["conversions"] == 0 and r["conversion_value"] == 0 for r in rows)
    assert [r["reach"] for r in rows] == [None, None]  # not asked in that recording: missing is null, never zero


@pytest.mark.parametrize("content", [
    DOCUMENTED_PAGE[:-1],  # cut off in transit
    DOCUMENTED_PAGE[:200],
    b'{"data":[{"spend":"1"}',
])
def test_a_cut_off_page_is_not_json(content):
    with pytest.raises(ValueError):
        decode_insights(content)  # the client retries it


@pytest.mark.parametrize("content", [
    b'{"error":{"message":"(#80004) too many calls","type":"OAuthException","code":80004}}',  # Meta's throttle body
    b'{"data":[1,2],"paging":{}}',
    b'{"data":[{"a":"1"} , {"b":"2"}]}',
    b'{"paging":{},"xdata":[{"a":"1"}]}',
])
def test_other_layouts_are_parsed_as_json(content):
    assert decode_insights(content) == orjson.loads(content)


def test_a_record_that_is_not_json_is_quarantined_with_its_text():
    # Balanced, compact and still not JSON: caught when the records are read.
    rows, quarantined = _landed(decode_insights(b'{"data":[{"date_start""2024-05-01"},' + DOCUMENTED_PAGE[9:])["data"])
    assert len(rows) == 1 and rows[0]["spend"] == Decimal("153.27")
    [(reason, record)] = quarantined
    assert "not JSON" in reason and record == '{"date_start""2024-05-01"}'


def _page(day: str, spend: str = "1.00", next_url: str | None = None) -> dict:
    record = {**orjson.loads(DOCUMENTED_PAGE)["data"][0], "date_start": day, "date_stop": day, "spend": spend}
    return {"data": [record], "paging": {"cursors": {"after": day}, **({"next": next_url} if next_url else {})}}


def _connector(url: str, accounts: list[str]) -> MetaAdsConnector:
    return MetaAdsConnector(ChannelSettings("meta_ads", url + "/v21.0", accounts, {"access_token": "t"}, 28, {}))


def test_accounts_pulled_in_turn_halve_a_window_meta_finds_too_big(scripted):
    # act_1's second page is refused as too much data: its window is pulled
    # again in halves, without the first attempt's rows or quarantined
    # record; act_2, whose pages may already be on the way, follows it.
    scripted.add(200, _page("2024-05-01", spend="12,5", next_url=scripted.url + "/v21.0/act_1/insights?after=x"))
    scripted.add(500, {"error": {"message": "Please reduce the amount of data you're asking for, then retry your request",
                                 "code": 1, "error_subcode": 1487534}})
    scripted.add(200, _page("2024-05-01", spend="1.00"))
    scripted.add(200, _page("2024-05-02", spend="2.00"))
    scripted.add(200, _page("2024-05-02", spend="3.00"))
    connector = _connector(scripted.url, ["act_1", "act_2"])
    pulled = [(account, [(r["date_day"], r["spend"]) for b in batches for r in b.to_pylist()])
              for account, batches in connector.read_accounts("insights", ["act_1", "act_2"], dt.date(2024, 5, 1),
                                                              dt.date(2024, 5, 2))]
    assert pulled == [("act_1", [(dt.date(2024, 5, 1), Decimal("1.00")), (dt.date(2024, 5, 2), Decimal("2.00"))]),
                      ("act_2", [(dt.date(2024, 5, 2), Decimal("3.00"))])]
    assert connector.quarantined == []
    ranges = [orjson.loads(parse_qs(urlsplit(r["path"]).query).get("time_range", ["null"])[0]) for r in scripted.requests]
    assert [urlsplit(r["path"]).path for r in scripted.requests] == ["/v21.0/act_1/insights"] * 4 + ["/v21.0/act_2/insights"]
    assert ranges == [{"since": "2024-05-01", "until": "2024-05-02"}, None, {"since": "2024-05-01", "until": "2024-05-01"},
                      {"since": "2024-05-02", "until": "2024-05-02"}, {"since": "2024-05-01", "until": "2024-05-02"}]


def test_an_account_that_fails_fails_at_its_turn(scripted):
    scripted.add(200, _page("2024-05-01"))
    scripted.add(400, {"error": {"message": "(#100) Unsupported get request.", "type": "GraphMethodException", "code": 100}})
    pulled = _connector(scripted.url, ["act_1", "act_2"]).read_accounts("insights", ["act_1", "act_2"],
                                                                          dt.date(2024, 5, 1), dt.date(2024, 5, 1))
    account, batches = next(pulled)
    assert account == "act_1" and sum(b.num_rows for b in batches) == 1
    with pytest.raises(ApiError) as failed:
        next(pulled)
    assert failed.value.account == "act_2"
