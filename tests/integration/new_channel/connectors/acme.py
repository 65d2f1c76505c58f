"""Acme Social: a made-up paid and organic channel, the test of
docs/adding-a-channel.md (tests/integration/test_adding_a_channel.py copies
it into a copy of the repository, beside its sandbox and staging models).

Wire format: JSON `{"data": [...]}` lists, numbers of the ad report as strings,
Bearer token, one account per brand. Dates are UTC days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from connectors.base import MONEY, AdTotals, Connector, Stream, Values
from connectors.http import ApiClient, Dialect

CHANNEL = "acme"


STREAMS = Stream.by_name(
    Stream.of("accounts", [("account_name", pa.string()), ("currency", pa.string()), ("timezone", pa.string())], key=(),
              description="Acme accounts."),
    Stream.of("campaigns", [("campaign_id", pa.string()), ("campaign_name", pa.string()), ("objective", pa.string()),
                            ("status", pa.string()), ("utm_campaign", pa.string())],
              key=("campaign_id",), description="Acme campaigns."),
    Stream.of("campaign_daily", [("date_day", pa.date32()), ("campaign_id", pa.string()), ("spend", MONEY),
                                 ("impressions", pa.int64()), ("clicks", pa.int64()), ("conversions", pa.int64()),
                                 ("conversion_value", MONEY)],
              key=("date_day", "campaign_id"), date_column="date_day", description="Acme campaign daily.",
              expectations=("nonnegative: spend, impressions, clicks", "at_most: clicks <= impressions")),
    Stream.of("audience_daily", [("date_day", pa.date32()), ("followers_gained", pa.int64()), ("impressions", pa.int64()),
                                 ("engagements", pa.int64())],
              key=("date_day",), date_column="date_day", description="Acme audience daily."),
    Stream.snapshots("follower_snapshots", [("followers", pa.int64())], key=(), description="Acme follower snapshots."),
    Stream.snapshots("follower_demographics", [("dimension", pa.string()), ("bucket", pa.string()), ("followers", pa.int64())],
                     key=("dimension", "bucket"), description="Acme follower demographics."),
    Stream.of("posts", [("post_id", pa.string()), ("published_at", pa.timestamp("us", tz="UTC")), ("post_type", pa.string()),
                        ("text", pa.string()), ("url", pa.string())],
              key=("post_id",), description="Acme posts."),
    Stream.snapshots("post_snapshots", [("post_id", pa.string()), ("views", pa.int64()), ("likes", pa.int64())],
                     key=("post_id",), description="Acme post snapshots."),
    Stream.of("post_daily", [("date_day", pa.date32()), ("post_id", pa.string()), ("views", pa.int64()), ("likes", pa.int64())],
              key=("date_day", "post_id"), date_column="date_day", description="Acme post daily."),
)


class AcmeConnector(Connector):
    channel = CHANNEL
    streams = STREAMS
    default_base_url = "https://api.acme.example"
    kind = "paid_and_organic"
    display_name = "Acme Social"
    platform = "Acme"
    day_timezone = "UTC"
    engagements_basis = "account_daily"
    dbt_unions = {union: f"stg_acme__{union}" for union in (
        "ad_accounts", "ad_campaigns", "ad_campaign_daily", "ad_campaign_daily_versions", "account_daily", "posts", "post_snapshots", "post_daily",
        "follower_demographics")}
    ad_totals = AdTotals(stream="campaign_daily", spend="spend", currency_stream="accounts")
    expected_lag_days = 1
    credential_keys = ("access_token",)

    @staticmethod
    def normalize_account(raw: str) -> str:
        if not raw.replace("-", "").isalnum():
            raise ValueError(f"not an Acme account id: {raw!r}")
        return raw

    def make_client(self) -> ApiClient:
        return self.bearer_client(Dialect())

    def records(self, stream: str, account: str, start: dt.date, end: dt.date,
                values: Values) -> Iterator[tuple[dict[str, Any], Any]]:
        for record in self._records(stream, account, start, end):
            yield self._row(stream, record, values), record

    def _records(self, stream: str, account: str, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
        path = f"/v1/accounts/{account}"
        window = {"since": start.isoformat(), "until": end.isoformat()}
        if stream == "accounts":
            return [self.client.request_json("GET", path, account=account)]
        if stream == "follower_snapshots":
            return [{**self.client.request_json("GET", path, account=account), "snapshot_date": self.snapshot_date.isoformat()}]
        if stream == "follower_demographics":
            rows = self.client.request_json("GET", f"{path}/follower_breakdown", account=account)["data"]
            return [{**row, "snapshot_date": self.snapshot_date.isoformat()} for row in rows]
        if stream in ("campaigns", "posts"):
            return self.client.request_json("GET", f"{path}/{stream}", account=account)["data"]
        if stream == "post_snapshots":
            rows = self.client.request_json("GET", f"{path}/posts", account=account)["data"]
            return [{**row, "snapshot_date": self.snapshot_date.isoformat()} for row in rows]
        report = {"campaign_daily": "campaign_report", "audience_daily": "audience_report", "post_daily": "post_report"}[stream]
        return self.client.request_json("GET", f"{path}/{report}", account=account, params=window)["data"]

    @staticmethod
    def _row(stream: str, r: dict[str, Any], v) -> dict[str, Any]:
        if stream == "accounts":
            return {"account_name": r["name"], "currency": r["currency"], "timezone": r["timezone"]}
        if stream == "campaigns":
            return {"campaign_id": r["id"], "campaign_name": r["name"], "objective": r["objective"],
                    "status": r["status"], "utm_campaign": r.get("utm_campaign")}
        if stream == "campaign_daily":
            return {"date_day": v.date(r["date"], "date"), "campaign_id": r["campaign_id"],
                    "spend": v.decimal(r.get("spend"), "spend"), "impressions": v.int(r.get("impressions"), "impressions"),
                    "clicks": v.int(r.get("clicks"), "clicks"), "conversions": v.int(r.get("conversions"), "conversions"),
                    "conversion_value": v.decimal(r.get("conversion_value"), "conversion_value")}
        if stream == "audience_daily":
            return {"date_day": v.date(r["date"], "date"), "followers_gained": v.int(r.get("followers_gained"), "followers_gained"),
                    "impressions": v.int(r.get("impressions"), "impressions"),
                    "engagements": v.int(r.get("engagements"), "engagements")}
        if stream == "follower_snapshots":
            return {"snapshot_date": v.date(r["snapshot_date"], "snapshot_date"), "followers": v.int(r.get("followers"), "followers")}
        if stream == "follower_demographics":
            return {"snapshot_date": v.date(r["snapshot_date"], "snapshot_date"), "dimension": r["dimension"],
                    "bucket": r["bucket"], "followers": v.int(r.get("followers"), "followers")}
        if stream == "posts":
            return {"post_id": r["id"], "published_at": v.timestamp(r.get("created_at"), "created_at", "%Y-%m-%dT%H:%M:%S%z"),
                    "post_type": r.get("type"), "text": r.get("text"), "url": r.get("url")}
        if stream == "post_snapshots":
            lifetime = r.get("lifetime") or {}
            return {"snapshot_date": v.date(r["snapshot_date"], "snapshot_date"), "post_id": r["id"],
                    "views": v.int(lifetime.get("views"), "views"), "likes": v.int(lifetime.get("likes"), "likes")}
        return {"date_day": v.date(r["date"], "date"), "post_id": r["post_id"], "views": v.int(r.get("views"), "views"),
                "likes": v.int(r.get("likes"), "likes")}
