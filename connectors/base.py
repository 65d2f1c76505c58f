"""What every channel connector shares: stream specs, settings, typed Arrow batches.

A connector turns one channel's wire format into typed Arrow record batches,
one `Stream` at a time. It knows nothing of Dagster or DuckDB: landing the
batches is the orchestration layer's job.

Every stream's table carries, beside its typed columns:
- `account_id`: the configured account the row was pulled for;
- `_record`: the original API record as JSON, so nothing the API sent is lost
  (fields we do not type yet are still there, and a re-parse needs no re-pull).
`_synced_at` is added at landing time.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import numpy as np
import orjson
import pyarrow as pa

from connectors.http import ApiClient, Dialect, RetryPolicy

MONEY = pa.decimal128(18, 6)
BATCH_ROWS = 50_000


@dataclass(frozen=True)
class Stream:
    """One raw table: `raw_<channel>.<name>`."""

    name: str
    schema: pa.Schema  # typed columns, without account_id/_record (added here)
    key: tuple[str, ...]  # natural key: unique within the table
    # How a sync replaces rows: by account-local day in [start, end] on this
    # column; None: all of the account's rows (dimension-like streams).
    date_column: str | None
    description: str
    # Lifetime counters (X public_metrics, YouTube statistics, ...) land as
    # dated snapshots: date_column is then the snapshot date, the sync replaces
    # only the connector's snapshot_date, and history accumulates.
    snapshot: bool = False
    # Wire fields (dotted paths into `_record`) a KPI is computed from: a pull
    # whose records lack one fails the schema-drift check by name instead of
    # landing nulls that would read as zero in a dashboard.
    required_fields: tuple[str, ...] = ()
    # The API returns rows for every day of an active account (daily totals,
    # not events): a day with no rows between days with rows is missing data.
    every_day: bool = False
    # Follower-change streams (daily gains/losses): every pull also lands the
    # days after the window up to the connector's snapshot_date, as far as
    # the API serves them. A follower total is snapshotted on the pull day;
    # back-casting it to a past window's days needs every net change in
    # between (total(d) = total(snapshot day) - net changes of d+1..snapshot
    # day), so a backfill of last week run today also re-pulls the days since.
    through_snapshot_date: bool = False
    # Value rules on the raw table, checked by a Great Expectations suite
    # before dbt runs: "nonnegative: spend, clicks", "at_most: clicks <=
    # impressions" (orchestration/quality/expectations.py has the others).
    expectations: tuple[str, ...] = ()

    @classmethod
    def of(cls, name: str, columns: list[tuple[str, pa.DataType]], key: tuple[str, ...], description: str,
           date_column: str | None = None, **options: Any) -> Stream:
        """A Stream as connectors declare it: `key` without the `account_id`
        every raw table's key starts with (its rows are per configured
        account); no `date_column`: a sync replaces all of the account's rows."""
        return cls(name, pa.schema(columns), ("account_id", *key), date_column, description, **options)

    @classmethod
    def snapshots(cls, name: str, columns: list[tuple[str, pa.DataType]], key: tuple[str, ...], description: str,
                  **options: Any) -> Stream:
        """Lifetime counters recorded on the pull day: dated, keyed and
        replaced by `snapshot_date` (the connector's), so history accumulates."""
        return cls.of(name, [("snapshot_date", pa.date32()), *columns], ("snapshot_date", *key), description,
                      "snapshot_date", snapshot=True, **options)

    @staticmethod
    def by_name(*declared: Stream) -> dict[str, Stream]:
        """A connector's `streams`."""
        return {s.name: s for s in declared}

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field("account_id", pa.string(), nullable=False), *self.schema, pa.field("_record", pa.string())])


# --------------------------------------------------------------------------- wire fields
#
# A wire field table maps the API's field names to (column, kind): the
# column it lands in and how its value parses (the `Values` method of that
# name). The same table gives the request's field list, the schema's
# columns (`Fields.columns`) and the row's values (`Values.fields`).
KIND_TYPES = {"int": pa.int64(), "decimal": MONEY, "float": pa.float64(), "text": pa.string()}


class Fields(dict[str, tuple[str, str]]):
    """wire field name -> (column, kind)."""

    @classmethod
    def snake(cls, names: tuple[str, ...] | list[str], kind: str = "int", **kinds: str) -> Fields:
        """Fields whose columns are their wire names in snake_case
        (`landingPageClicks` -> `landing_page_clicks`), all of `kind` but
        those named in `kinds` (`costInUsd="decimal"`)."""
        if set(kinds) - set(names):
            raise ValueError(f"kinds for fields not in the table: {sorted(set(kinds) - set(names))}")
        return cls({name: (re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower(), kinds.get(name, kind)) for name in names})

    def columns(self) -> list[tuple[str, pa.DataType]]:
        """The schema columns the fields land in."""
        return [(column, KIND_TYPES[kind]) for column, kind in self.values()]


def as_sent(record: dict[str, Any], *fields: str, **renamed: str) -> dict[str, Any]:
    """Wire fields that land as the API sent them (names, statuses,
    currency codes: nothing to parse), under their own names or, for
    `column="field"`, under another."""
    return {**{name: record.get(name) for name in fields}, **{column: record.get(name) for column, name in renamed.items()}}


@dataclass
class ChannelSettings:
    """One channel's configuration, credentials already resolved from the environment."""

    name: str
    base_url: str
    accounts: list[str]
    credentials: dict[str, str] = field(default_factory=dict)
    lookback_days: int = 28
    options: dict[str, Any] = field(default_factory=dict)


class ParseError(ValueError):
    """A value on the wire that cannot be what the API documents."""

    def __init__(self, channel: str, stream: str, column: str, value: Any, why: str) -> None:
        self.channel, self.stream, self.column, self.value = channel, stream, column, value
        super().__init__(f"{channel}.{stream}: column {column!r} got {value!r}: {why}")


# --------------------------------------------------------------------------- what a channel declares
#
# Everything outside a channel's own places (its connector module, its sandbox
# modules, its dbt staging folder) derives from these declarations: the raw
# assets and their checks, the dbt unions and channel lists (passed to dbt as
# vars by orchestration/dbt_vars.py), the reconciliation audit, the raw
# expectation suites, dim_channel and the report. docs/adding-a-channel.md
# says what each one means.

# paid: ad accounts and campaigns; organic: an audience and its posts;
# paid_and_organic: both (LinkedIn); web: site analytics (GA4); reference:
# data the marts need that is no marketing channel (FX rates).
CHANNEL_KINDS = ("paid", "organic", "paid_and_organic", "web", "reference")

# The union models of the dbt project (intermediate/), each fed by one model
# per channel in a column contract (docs/adding-a-channel.md), and the name
# the channel's model feeding it has by convention (see UnionModels).
DBT_UNIONS = {
    "ad_accounts": "accounts", "ad_campaigns": "campaigns", "ad_campaign_daily": "campaign_daily",
    "ad_campaign_daily_versions": "campaign_daily_versions", "web_properties": "properties",
    "account_daily": "account_daily", "posts": "posts", "post_snapshots": "post_snapshots", "post_daily": "post_daily",
    "follower_demographics": "follower_demographics",
}
ORGANIC_UNIONS = ("account_daily", "posts", "post_snapshots")  # what every organic channel feeds
PAID_UNIONS = ("ad_accounts", "ad_campaigns", "ad_campaign_daily", "ad_campaign_daily_versions")  # every paid one


class UnionModels:
    """A connector's `dbt_unions` by convention: the `unions` named are fed
    by the channel's staging models stg_<channel>__<name> (names in
    DBT_UNIONS), the `intermediate` ones by its intermediate models
    int_<channel>__<name> (where conforming needs an aggregation), each
    `union=model` by that model. Read on a connector class, it is the
    union -> model mapping for the class's `channel`."""

    def __init__(self, *unions: str, intermediate: tuple[str, ...] = (), **models: str) -> None:
        self.unions, self.intermediate, self.models = unions, intermediate, models

    def __get__(self, instance: Any, owner: type[Connector]) -> dict[str, str]:
        return {
            **{union: f"stg_{owner.channel}__{DBT_UNIONS[union]}" for union in self.unions},
            **{union: f"int_{owner.channel}__{DBT_UNIONS[union]}" for union in self.intermediate},
            **self.models,
        }


# Where an organic channel's daily engagements come from (fct_audience_daily.engagements_basis).
ENGAGEMENTS_BASES = ("account_daily", "post_daily", "published_posts")


@dataclass(frozen=True)
class AdTotals:
    """Where a paid channel's raw daily campaign totals live: the
    reconciliation audit recomputes the ad mart's spend, impressions and
    clicks from them, independently of dbt."""

    stream: str  # daily rows: account_id, date_day, impressions, clicks
    spend: str  # that stream's spend column, in the account's currency
    currency_stream: str  # one row per account_id with its `currency`


class Connector(ABC):
    channel: ClassVar[str]
    streams: ClassVar[dict[str, Stream]]
    # What the channel is (one of CHANNEL_KINDS): "paid" (ad spend), "organic"
    # (own posts and audience), "paid_and_organic" (both, LinkedIn), "web"
    # (analytics) or "reference" (lookups such as FX rates).
    kind: ClassVar[str]
    display_name: ClassVar[str]  # "Meta Ads", "WeChat Official Accounts"
    platform: ClassVar[str]  # the company behind the API: "Meta", "Google"
    # The time zone of the API's days: an IANA name when the API fixes one
    # (WeChat reports Beijing days), None when each account's own zone governs
    # (Meta ad accounts, TikTok advertisers, GA4 properties: read from the API).
    day_timezone: ClassVar[str | None] = None
    # The ad channel of the same platform (Instagram's ads run on meta_ads):
    # fct_audience_daily sets its paid numbers beside the organic ones. A
    # paid channel is its own.
    paid_channel: ClassVar[str | None] = None
    # Union (one of DBT_UNIONS) -> this channel's dbt model feeding it (declared as UnionModels).
    dbt_unions: ClassVar[dict[str, str]] = {}
    # Organic channels: one of ENGAGEMENTS_BASES.
    engagements_basis: ClassVar[str | None] = None
    # Paid channels: the raw totals the ad mart is reconciled with.
    ad_totals: ClassVar[AdTotals | None] = None
    default_base_url: ClassVar[str]
    # The credentials config must give: most APIs take an OAuth access token.
    credential_keys: ClassVar[tuple[str, ...]] = ("access_token",)
    # option name -> expected Python type, for config validation
    option_types: ClassVar[dict[str, type]] = {}
    # How many days behind today the API's newest complete day is: most
    # serve yesterday complete today; GA4 and YouTube Analytics settle a day
    # ~48 h after it ends; ECB rates skip weekends and holidays. Freshness is
    # judged against it.
    expected_lag_days: ClassVar[int] = 1
    # Days pulled before every window's start (FX: a window that opens on a
    # weekend or after a holiday still has a rate to carry forward).
    lead_days: ClassVar[int] = 0

    # The canonical form of a configured account id (ValueError when malformed).
    normalize_account: ClassVar[Callable[[str], str]]

    def __init__(
        self,
        settings: ChannelSettings,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        snapshot_date: dt.date | None = None,
    ) -> None:
        self.settings = settings
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        # The day lifetime counters are recorded for (the pull's day).
        self.snapshot_date = snapshot_date or dt.datetime.now(dt.UTC).date()
        self.quarantined: list[Quarantined] = []
        self.client = self.make_client()

    @abstractmethod
    def make_client(self) -> ApiClient: ...

    def bearer_client(self, dialect: Dialect, credential: str = "access_token", base_url: str | None = None) -> ApiClient:
        """A client sending credential `credential` as `Authorization: Bearer`:
        a header, so that the token never appears in a URL."""
        token = self.settings.credentials[credential]
        return ApiClient(self.channel, base_url or self.settings.base_url, dialect, {"Authorization": f"Bearer {token}"},
                         policy=self.policy, sleep=self.sleep)

    def builder(self, stream: str, account_id: str) -> BatchBuilder:
        """A batch builder for one account's rows; records whose values do not
        parse go to `self.quarantined` (landed beside the raw table, with the
        reason) instead of failing the whole stream."""
        return BatchBuilder(self.streams[stream], account_id, Values(self.channel, stream), self.quarantined)

    def read(self, stream: str, account: str, start: dt.date, end: dt.date) -> Iterator[pa.RecordBatch]:
        """Yield the stream's rows for one account and the inclusive date window,
        as typed batches of at most BATCH_ROWS rows."""
        if stream not in self.streams:
            raise KeyError(stream)
        account = self.normalize_account(account)
        builder = self.builder(stream, account)
        for row, record in self.records(stream, account, start, end, builder.values):
            builder.add(row, record)
            if builder.full():
                yield builder.flush()
        batch = builder.flush()
        if batch is not None:
            yield batch

    def read_accounts(self, stream: str, accounts: list[str], start: dt.date,
                      end: dt.date) -> Iterator[tuple[str, list[pa.RecordBatch]]]:
        """(account, its batches) for each account (in its canonical form), in
        order: `read`'s batches, all of them. An account that fails raises when
        its turn comes, after the accounts before it."""
        for account in accounts:
            yield account, list(self.read(stream, account, start, end))

    def records(self, stream: str, account: str, start: dt.date, end: dt.date,
                values: Values) -> Iterator[tuple[dict[str, Any], Any]]:
        """(typed row, wire record) pairs of one stream for one account (in its
        canonical form) and the inclusive window: a channel's requests and row
        mapping, parsing its values with `values` (a bad value quarantines the
        record, see BatchBuilder). Volume streams parsed column-wise
        (connectors.columnar: Meta insights, GA4 traffic) override `read` instead."""
        raise KeyError(f"{self.channel} has no record-by-record stream {stream!r}")

    def close(self) -> None:
        self.client.close()


class PaidConnector(Connector):
    """A paid channel: ad accounts and their campaigns' spend, feeding at
    least the unions every paid channel feeds."""

    kind = "paid"
    dbt_unions = UnionModels(*PAID_UNIONS)


class OrganicConnector(Connector):
    """An organic channel: an account's audience and its posts, feeding at
    least the unions every organic channel feeds."""

    kind = "organic"
    dbt_unions = UnionModels(*ORGANIC_UNIONS)


@dataclass(frozen=True)
class AccountIds:
    """How one API spells its account ids: calling it gives the canonical form
    of a configured id, or a ValueError saying what was expected. Configured
    ids end up in URLs and SQL: anything but the documented shape is refused."""

    what: str  # "a Meta ad account id": the error names it
    expected: str  # "act_<digits>": and what it should look like
    pattern: str  # the canonical form, a regular expression
    accepted_prefix: str = ""  # a prefix accepted and dropped ("properties/", "urn:li:organization:")
    digits_prefix: str = ""  # a prefix put before bare digits (Meta's "act_")
    below: int | None = None  # numeric ids must be smaller (X: a signed 64-bit integer)

    def __call__(self, raw: str) -> str:
        text = str(raw).strip().removeprefix(self.accepted_prefix)
        if self.digits_prefix and text.isdigit():
            text = self.digits_prefix + text
        if not re.fullmatch(self.pattern, text) or (self.below is not None and int(text) >= self.below):
            raise ValueError(f"not {self.what} (expected {self.expected}): {raw!r}")
        return text


@dataclass
class Quarantined:
    """A wire record held back from landing because a value did not parse."""

    account_id: str
    problems: list[ParseError]
    record: str  # the original record, JSON

    @property
    def reason(self) -> str:
        return "; ".join(str(p) for p in self.problems)


class BatchBuilder:
    """Collects parsed rows column-wise and emits typed Arrow batches."""

    def __init__(self, stream: Stream, account_id: str, values: Values, quarantine: list[Quarantined]) -> None:
        self.stream = stream
        self.schema = stream.arrow_schema
        self.account_id = account_id
        self.values = values
        values.problems = []
        self.quarantine = quarantine
        self._names = [f.name for f in stream.schema]
        self._required = required_columns(stream)
        # Only integer and decimal columns can hold a value Arrow refuses.
        self._bounded = [(f.name, f.type) for f in stream.schema if value_range(f.type) is not None]
        self._reset()

    def _reset(self) -> None:
        self._columns: dict[str, list[Any]] = {name: [] for name in self._names}
        self._records: list[str] = []

    def __len__(self) -> int:
        return len(self._records)

    def add(self, row: dict[str, Any], record: Any) -> None:
        """Add a parsed row, or quarantine its record when a value did not parse.

        Contract: parse a record with `self.values`, then add it (problems
        found while parsing belong to the next added record)."""
        for name in self._required:
            if row.get(name) is None:
                self.values.unparseable(name, None, MISSING_KEY)
        for name, arrow_type in self._bounded:
            value = row.get(name)
            if value is not None and not fits(value, arrow_type):
                self.values.unparseable(name, value, f"too large for {arrow_type}")
        if self.values.problems:
            self.quarantine.append(Quarantined(self.account_id, list(self.values.problems), orjson.dumps(record).decode()))
            self.values.problems.clear()
            return
        for name in self._names:
            self._columns[name].append(row.get(name))
        self._records.append(orjson.dumps(record).decode())

    def full(self) -> bool:
        return len(self._records) >= BATCH_ROWS

    def flush(self) -> pa.RecordBatch | None:
        if not self._records:
            return None
        arrays = [pa.array([self.account_id] * len(self._records), pa.string())]
        arrays += [pa.array(self._columns[f.name], f.type) for f in self.stream.schema]
        arrays.append(pa.array(self._records, pa.string()))
        batch = pa.RecordBatch.from_arrays(arrays, schema=self.schema)
        self._reset()
        return batch


# --------------------------------------------------------------------------- value parsing


class Values:
    """Parses one stream's wire values, naming channel, stream and column on failure.

    APIs send numbers as strings, use "-" or "" for "not available", and omit
    keys: all of those are null, never zero.
    """

    MISSING = (None, "", "-")

    def __init__(self, channel: str, stream: str, problems: list[ParseError] | None = None) -> None:
        self.channel, self.stream = channel, stream
        # None: an unparseable value raises. A list (set by a BatchBuilder):
        # the problem is collected, the value reads as null, and the builder
        # quarantines the whole record instead of landing it.
        self.problems = problems

    def unparseable(self, column: str, value: Any, why: str) -> None:
        error = ParseError(self.channel, self.stream, column, value, why)
        if self.problems is None:
            raise error
        self.problems.append(error)

    def parsed(self, value: Any, column: str, convert: Callable[[Any], Any], why: str) -> Any:
        """`convert(value)`, null for a missing value; a value it refuses
        (ValueError and kin; an `Unfit` says why itself) is unparseable."""
        if value in self.MISSING:
            return None
        try:
            return convert(value)
        except Unfit as exc:
            self.unparseable(column, value, str(exc))
        except (ValueError, TypeError, InvalidOperation, OverflowError):
            self.unparseable(column, value, why)
        return None

    def int(self, value: Any, column: str) -> int | None:
        return self.parsed(value, column, _to_int, "not an integer")

    def decimal(self, value: Any, column: str) -> Decimal | None:
        return self.parsed(value, column, _to_decimal, "not a decimal number")

    def float(self, value: Any, column: str) -> float | None:
        return self.parsed(value, column, _to_float, "not a number")

    def text(self, value: Any, column: str) -> str | None:
        """A string field, its "not available" spellings null."""
        return self.parsed(value, column, str, "not text")

    def date(self, value: Any, column: str, fmt: str = "%Y-%m-%d") -> dt.date | None:
        width = len(dt.date(2000, 1, 1).strftime(fmt))
        return self.parsed(value, column, lambda v: dt.datetime.strptime(str(v)[:width], fmt).date(), f"not a date ({fmt})")

    def fields(self, source: dict[str, Any], fields: Fields, label_prefix: str = "") -> dict[str, Any]:
        """column -> parsed value of each field of a wire field table found in
        `source` (absent: null); errors name the field as `label_prefix + name`."""
        return {column: getattr(self, kind)(source.get(name), label_prefix + name)
                for name, (column, kind) in fields.items()}

    def timestamp(self, value: Any, column: str, *formats: str) -> dt.datetime | None:
        """The wire timestamp as an aware UTC datetime, in the first of
        `formats` that reads it: a `strptime` format with `%z`, `ISO_8601`
        (`2024-05-13T15:04:05.000Z`) or `EPOCH_MS` (LinkedIn's milliseconds)."""
        if value in self.MISSING:
            return None
        for fmt in formats:
            try:
                if fmt == EPOCH_MS:
                    if isinstance(value, bool) or not isinstance(value, (int, str)):
                        raise ValueError
                    parsed = dt.datetime.fromtimestamp(int(value) / 1000, tz=dt.UTC)
                elif fmt == ISO_8601:
                    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
                else:
                    parsed = dt.datetime.strptime(str(value), fmt)
            except (ValueError, TypeError, OverflowError, OSError):
                continue
            if parsed.tzinfo is not None:
                return parsed.astimezone(dt.UTC)
        self.unparseable(column, value, f"not a timestamp ({' or '.join(formats)}, with its UTC offset)")
        return None


class Unfit(ValueError):
    """A value a converter refuses for a reason of its own (its message)."""


def _to_int(value: Any) -> int:
    if isinstance(value, str) and "." in value:
        number = Decimal(value)
        if number != number.to_integral_value():
            raise ValueError(value)
        return int(number)
    return int(value)


def _to_decimal(value: Any) -> Decimal:
    number = Decimal(str(value))
    if not number.is_finite():
        raise InvalidOperation(value)
    return number.quantize(Decimal("0.000001"))


def _to_float(value: Any) -> float:
    number = float(value)
    if not math.isfinite(number):
        # "NaN", "inf", "1e309": Python reads them, no API means them.
        raise Unfit("not a finite number")
    return number


ISO_8601 = "ISO 8601"  # Values.timestamp formats beside strptime's
EPOCH_MS = "epoch milliseconds"
MISSING_KEY = "missing: a row needs its date and key columns (the synced window is replaced by them)"


def required_columns(stream: Stream) -> tuple[str, ...]:
    """The columns a row cannot land without: its date (a null one escapes
    the window's replacement and piles up on every re-sync) and its key."""
    names = [stream.date_column] if stream.date_column else []
    names += [k for k in stream.key if k != "account_id" and k not in names]
    return tuple(names)


def value_range(arrow_type: pa.DataType) -> tuple[Any, Any] | None:
    """The inclusive range of an integer or decimal column's values."""
    if pa.types.is_integer(arrow_type):
        info = np.iinfo(arrow_type.to_pandas_dtype())
        return int(info.min), int(info.max)
    if pa.types.is_decimal(arrow_type):
        largest = Decimal(10) ** (arrow_type.precision - arrow_type.scale) - Decimal(10) ** -arrow_type.scale
        return -largest, largest
    return None


def fits(value: Any, arrow_type: pa.DataType) -> bool:
    """Whether a parsed value fits the column (Arrow would refuse it, failing the whole batch)."""
    bounds = value_range(arrow_type)
    return bounds is None or bounds[0] <= value <= bounds[1]


def date_chunks(start: dt.date, end: dt.date, days: int) -> Iterator[tuple[dt.date, dt.date]]:
    """Split [start, end] into inclusive chunks of at most `days` days."""
    cursor = start
    while cursor <= end:
        chunk_end = min(end, cursor + dt.timedelta(days=days - 1))
        yield cursor, chunk_end
        cursor = chunk_end + dt.timedelta(days=1)
