"""ECB euro reference rates: channel `fx`.

Stream (raw_fx.*):
- ecb_rates: one row per TARGET business day and currency: units of the
  currency per 1 EUR. Weekends and holidays have no row; dbt carries the last
  known rate forward and derives cross rates through EUR.

The ECB data API needs no credentials. A window without observations (a
weekend, a holiday) answers HTTP 404 "No results found.": that is an empty
result, not an error.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import requests

from connectors.base import AccountIds, Connector, Stream, Values
from connectors.http import ApiClient, Dialect, Verdict

CHANNEL = "fx"
ACCOUNT = "ECB"
CURRENCY = re.compile(r"^[A-Z]{3}$")
DEFAULT_CURRENCIES = ("USD", "GBP", "CNY", "JPY", "CHF", "SEK", "AUD", "CAD", "HKD", "SGD", "KRW", "INR", "BRL")


class EcbDialect(Dialect):
    def classify(self, response: requests.Response, body: Any) -> Verdict:
        if response.status_code == 404 and "no results" in response.text.lower():
            return Verdict("ok")
        return super().classify(response, body)


STREAMS = Stream.by_name(
    Stream.of("ecb_rates", [("rate_date", pa.date32()), ("currency", pa.string()), ("rate_per_eur", pa.decimal128(18, 6))],
              key=("rate_date", "currency"), date_column="rate_date",
              description="ECB euro foreign exchange reference rates (units of currency per EUR), business days only.",
              required_fields=("CURRENCY", "TIME_PERIOD", "OBS_VALUE"),
              expectations=("positive: rate_per_eur", "currency: currency", "not_future: rate_date")),
)


class FxConnector(Connector):
    channel = CHANNEL
    streams = STREAMS
    default_base_url = "https://data-api.ecb.europa.eu"
    kind = "reference"
    display_name = "ECB euro reference rates"
    platform = "European Central Bank"
    # The ECB publishes on TARGET business days only: Easter leaves a
    # Thursday rate standing until Tuesday.
    expected_lag_days = 4
    day_timezone = "Europe/Berlin"
    lead_days = 14  # ECB rates skip weekends and holidays: the last rate before the window carries forward
    option_types = {"currencies": list}
    credential_keys = ()  # the ECB data API is open

    normalize_account = AccountIds("the fx source's one account", repr(ACCOUNT), re.escape(ACCOUNT))

    def make_client(self) -> ApiClient:
        return ApiClient(CHANNEL, self.settings.base_url, EcbDialect(), policy=self.policy, sleep=self.sleep)

    @property
    def currencies(self) -> list[str]:
        return sorted({c for c in self.settings.options.get("currencies", DEFAULT_CURRENCIES) if c != "EUR"})

    def records(self, stream: str, account: str, start: dt.date, end: dt.date,
                values: Values) -> Iterator[tuple[dict[str, Any], Any]]:
        key = "+".join(self.currencies)
        text = self.client.request_json(
            "GET",
            f"/service/data/EXR/D.{key}.EUR.SP00.A",
            account=ACCOUNT,
            params={"startPeriod": start.isoformat(), "endPeriod": end.isoformat(), "format": "csvdata"},
            decode=complete_csv,
        )
        if text is not None:  # None: the ECB's 404 "No results found" (a window of holidays only)
            yield from parse_csv(text, values)


def complete_csv(body: bytes) -> str:
    """The ECB's csvdata answer as text, or a ValueError when it is not whole:
    the client then retries it as a cut-off transfer. A CSV cut in transit
    still parses (its first rows, the last one short or its value clipped:
    1.0834 arriving as 1.0), so completeness is checked here: every row of
    csvdata ends with a line break and has the header's number of fields."""
    text = body.decode("utf-8")  # a cut inside a multi-byte character: UnicodeDecodeError, a ValueError
    if text and not text.endswith("\n"):
        raise ValueError("the CSV does not end with a line break")
    rows = csv.reader(io.StringIO(text))
    header = next(rows, [])
    for number, row in enumerate(rows, start=2):
        if row and len(row) != len(header):
            raise ValueError(f"CSV line {number} has {len(row)} fields, the header {len(header)}")
    return text


def parse_csv(text: str, v: Values) -> Iterator[tuple[dict[str, Any], dict[str, str]]]:
    """Yield (typed row, original CSV record) pairs; only the columns we need are required."""
    reader = csv.DictReader(io.StringIO(text))
    for needed in ("CURRENCY", "TIME_PERIOD", "OBS_VALUE"):
        if needed not in (reader.fieldnames or []):
            raise ValueError(f"fx: the ECB CSV has no {needed} column (columns: {reader.fieldnames})")
    for record in reader:
        if record.get("CURRENCY_DENOM", "EUR") != "EUR" or not record.get("OBS_VALUE"):
            continue
        row = {
            "rate_date": v.date(record["TIME_PERIOD"], "TIME_PERIOD"),
            "currency": record["CURRENCY"],
            "rate_per_eur": v.decimal(record["OBS_VALUE"], "OBS_VALUE"),
        }
        yield row, {k: val for k, val in record.items() if val}
