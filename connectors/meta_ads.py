"""Meta Marketing API (Graph API) ads connector: channel `meta_ads`.

Streams (raw_meta_ads.*):
- accounts:  one row per ad account: name, currency, time zone (dates of every
             other stream are local to this zone, money is in this currency).
- campaigns: id, name, objective, status, flight.
- ads:       id, campaign, the creative's url_tags and the UTM values parsed from them
             (how a campaign is joined to GA4 sessions).
- insights:  one row per campaign per local day: spend, impressions, reach, clicks,
             link clicks, and the configured conversion action's count and value.

Wire quirks handled (api-notes section 1): numbers as strings; `actions` and
`action_values` omitted when empty (zero, not null); one purchase reported under
several action types (`purchase`, `omni_purchase`,
`offsite_conversion.fb_pixel_purchase`): only the configured canonical type is
read, never a sum; throttling as HTTP 400 with codes 4/17/32/613/80000-80008 and
the wait in `X-Business-Use-Case-Usage`; expired token code 190; "reduce the
amount of data" answered by halving the date range. The token travels in the
Authorization header, so it never appears in a URL (nor in `paging.next`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from functools import partial
from typing import Any
from urllib.parse import parse_qs

import pyarrow as pa

from connectors.base import MONEY, PAID_UNIONS, AccountIds, AdTotals, PaidConnector, Stream, UnionModels, Values, as_sent
from connectors.columnar import ColumnarBuilder, Wire, decode_records, first_action_value
from connectors.graph import GRAPH_TIME, GraphConnector
from connectors.http import ApiError, prefetched

CHANNEL = "meta_ads"
PAGE_LIMIT = 500
INSIGHT_FIELDS = ("campaign_id", "campaign_name", "spend", "impressions", "reach", "clicks", "actions", "action_values")

# `123` and `act_123` name the same ad account; we store `act_123`.
normalize_account_id = AccountIds("a Meta ad account id", "act_<digits>", r"act_[0-9]{1,20}", digits_prefix="act_")


_ACTIONS = pa.list_(pa.struct([("action_type", pa.string()), ("value", pa.string())]))
# The insight record fields the columns come from (the record keeps all of them).
INSIGHT_WIRE_SCHEMA = pa.schema([
    ("date_start", pa.string()), ("campaign_id", pa.string()), ("campaign_name", pa.string()),
    ("spend", pa.string()), ("impressions", pa.string()), ("reach", pa.string()), ("clicks", pa.string()),
    ("actions", _ACTIONS), ("action_values", _ACTIONS),
])
# An insights page's records are cut out of its bytes (in the prefetch
# thread) and read by Arrow: no Python object per record or value.
decode_insights = partial(decode_records, key="data")

STREAMS = Stream.by_name(
    Stream.of("accounts", [("account_name", pa.string()), ("currency", pa.string()), ("timezone_name", pa.string())],
              key=(), description="Ad account facts: its currency and time zone govern every other stream's money and dates.",
              expectations=("currency: currency",)),
    Stream.of("campaigns", [("campaign_id", pa.string()), ("campaign_name", pa.string()), ("objective", pa.string()),
                            ("status", pa.string()), ("start_time", pa.timestamp("s", tz="UTC")),
                            ("stop_time", pa.timestamp("s", tz="UTC"))],
              key=("campaign_id",), description="Campaigns of the ad account."),
    Stream.of("ads", [("ad_id", pa.string()), ("ad_name", pa.string()), ("campaign_id", pa.string()), ("url_tags", pa.string()),
                      ("utm_source", pa.string()), ("utm_medium", pa.string()), ("utm_campaign", pa.string())],
              key=("ad_id",), description="Ads with their creative's url_tags and the UTM parameters parsed from them."),
    Stream.of("insights", [("date_day", pa.date32()), ("campaign_id", pa.string()), ("campaign_name", pa.string()),
                           ("spend", MONEY), ("impressions", pa.int64()), ("reach", pa.int64()), ("clicks", pa.int64()),
                           ("link_clicks", pa.int64()), ("conversion_action_type", pa.string()),
                           ("conversions", pa.decimal128(18, 2)), ("conversion_value", MONEY)],
              key=("date_day", "campaign_id"), date_column="date_day",
              description="Campaign insights per account-local day (time_increment=1), conversions of one canonical action type.",
              required_fields=("date_start", "spend", "impressions", "reach", "clicks"), every_day=True,
              expectations=("nonnegative: spend, impressions, reach, clicks, link_clicks, conversions, conversion_value",
                            "at_most: clicks <= impressions", "not_future: date_day")),
)


class MetaAdsConnector(GraphConnector, PaidConnector):
    channel = CHANNEL
    streams = STREAMS
    display_name = "Meta Ads"
    dbt_unions = UnionModels(*PAID_UNIONS, intermediate=("ad_campaigns",), ad_campaign_daily="stg_meta_ads__insights")
    ad_totals = AdTotals(stream="insights", spend="spend", currency_stream="accounts")
    option_types = {"conversion_action_type": str, "action_attribution_windows": list}
    normalize_account = normalize_account_id

    @property
    def conversion_action_type(self) -> str:
        return self.settings.options.get("conversion_action_type", "purchase")

    @property
    def attribution_windows(self) -> list[str]:
        return list(self.settings.options.get("action_attribution_windows", ["7d_click", "1d_view"]))

    def read(self, stream: str, account: str, start: dt.date, end: dt.date) -> Iterator[pa.RecordBatch]:
        if stream != "insights":
            yield from super().read(stream, account, start, end)
            return
        for _, batches in self.read_accounts(stream, [account], start, end):
            yield from batches

    def read_accounts(self, stream: str, accounts: list[str], start: dt.date,
                      end: dt.date) -> Iterator[tuple[str, list[pa.RecordBatch]]]:
        if stream != "insights":
            yield from super().read_accounts(stream, accounts, start, end)
            return
        # Insights parse a batch at a time (connectors.columnar): the volume stream.
        yield from self._insight_windows([normalize_account_id(account) for account in accounts], start, end)

    def records(self, stream: str, account: str, start: dt.date, end: dt.date,
                values: Values) -> Iterator[tuple[dict[str, Any], Any]]:
        if stream == "accounts":
            body = self.get(account, f"/{account}", {"fields": "name,currency,timezone_name"})
            yield as_sent(body, "currency", "timezone_name", account_name="name"), body
        elif stream == "campaigns":
            params = {"fields": "id,name,objective,status,start_time,stop_time", "limit": PAGE_LIMIT}
            yield from ((_campaign_row(r, values), r) for r in self.paged(account, f"/{account}/campaigns", params))
        elif stream == "ads":
            params = {"fields": "id,name,campaign_id,creative{url_tags}", "limit": PAGE_LIMIT}
            yield from ((_ad_row(r, values), r) for r in self.paged(account, f"/{account}/ads", params))

    def _insight_windows(self, accounts: list[str], start: dt.date,
                         end: dt.date) -> Iterator[tuple[str, list[pa.RecordBatch]]]:
        """Each account's batches of the window, all or none, account after account.

        One prefetch thread pulls the pages in the order a pull account by
        account sends them, so the next account's first pages are on the wire
        while this one's are typed. Meta's "reduce the amount of data" halves
        that account's window; what its failed attempt had pulled (rows and
        quarantined records) is dropped, so nothing lands twice.
        """
        done = 0
        while done < len(accounts):
            pages = prefetched(self._insight_pages(accounts[done:], start, end))
            builder, batches, quarantined = self._insight_builder(accounts[done]), [], len(self.quarantined)
            try:
                for account, body in pages:
                    if body is not None:
                        builder.extend(body.get("data", []))
                        if builder.full():
                            batches.append(builder.flush())
                        continue
                    batch = builder.flush()  # a window ends with its own batch: a later failure cannot take its rows along
                    yield account, batches + ([batch] if batch is not None else [])
                    done += 1
                    if done < len(accounts):
                        builder, batches, quarantined = self._insight_builder(accounts[done]), [], len(self.quarantined)
            except ApiError as exc:
                too_much = "reduce the amount of data" in exc.api_message.lower()
                if not too_much or start == end:
                    raise
                del self.quarantined[quarantined:]
                account, middle = accounts[done], start + (end - start) // 2
                halves = [(start, middle), (middle + dt.timedelta(days=1), end)]
                yield account, [batch for since, until in halves
                                for _, batches in self._insight_windows([account], since, until) for batch in batches]
                done += 1
            finally:
                pages.close()

    def _insight_pages(self, accounts: list[str], start: dt.date, end: dt.date) -> Iterator[tuple[str, dict | None]]:
        """(account, page) for every insights page of each account in turn,
        then (account, None) when the account's pages are done."""
        params = {
            "level": "campaign",
            "time_increment": 1,
            "time_range": json.dumps({"since": start.isoformat(), "until": end.isoformat()}, separators=(",", ":")),
            "fields": ",".join(INSIGHT_FIELDS),
            "action_attribution_windows": json.dumps(self.attribution_windows, separators=(",", ":")),
            "limit": PAGE_LIMIT,
        }
        for account in accounts:
            for body in self.pages(account, f"/{account}/insights", params, decode=decode_insights):
                yield account, body
            yield account, None

    def _insight_builder(self, account: str) -> ColumnarBuilder:
        return ColumnarBuilder(STREAMS["insights"], account, Values(CHANNEL, "insights"), self.quarantined,
                               INSIGHT_WIRE_SCHEMA, self.insight_columns, self.insight_wire())

    def insight_wire(self) -> dict[str, Wire]:
        """How the insight columns parse from their wire strings."""
        wanted = self.conversion_action_type
        return {
            "date_day": Wire("date", "date_start"),
            "spend": Wire("decimal", "spend"),
            "impressions": Wire("int", "impressions"),
            "reach": Wire("int", "reach"),
            "clicks": Wire("int", "clicks"),
            "link_clicks": Wire("int", "actions.link_click"),
            "conversions": Wire("decimal", f"actions.{wanted}"),
            "conversion_value": Wire("decimal", f"action_values.{wanted}"),
        }

    def insight_columns(self, records: pa.Table) -> dict[str, pa.Array | pa.ChunkedArray]:
        """The insight columns of a batch of records (INSIGHT_WIRE_SCHEMA).

        Meta reports one purchase under several action types with the same
        value, so only the configured canonical type is read, never a sum; an
        omitted `actions` list or type means zero.
        """
        wanted = self.conversion_action_type
        actions = records.column("actions")
        return {
            "date_day": records.column("date_start"),
            "campaign_id": records.column("campaign_id"),
            "campaign_name": records.column("campaign_name"),
            "spend": records.column("spend"),
            "impressions": records.column("impressions"),
            "reach": records.column("reach"),
            "clicks": records.column("clicks"),
            "link_clicks": first_action_value(actions, "link_click"),
            "conversion_action_type": pa.array([wanted] * records.num_rows, pa.string()),
            "conversions": first_action_value(actions, wanted),
            "conversion_value": first_action_value(records.column("action_values"), wanted),
        }


def _campaign_row(record: dict[str, Any], v: Values) -> dict[str, Any]:
    return {
        **as_sent(record, "objective", "status", campaign_id="id", campaign_name="name"),
        "start_time": v.timestamp(record.get("start_time"), "start_time", GRAPH_TIME),
        "stop_time": v.timestamp(record.get("stop_time"), "stop_time", GRAPH_TIME),
    }


def _ad_row(record: dict[str, Any], v: Values) -> dict[str, Any]:
    url_tags = (record.get("creative") or {}).get("url_tags")
    utm = {k: vals[0] for k, vals in parse_qs(url_tags or "").items() if vals}
    return {
        **as_sent(record, "campaign_id", ad_id="id", ad_name="name"),
        "url_tags": url_tags,
        "utm_source": utm.get("utm_source"),
        "utm_medium": utm.get("utm_medium"),
        "utm_campaign": utm.get("utm_campaign"),
    }
