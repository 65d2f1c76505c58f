"""socialmart.yaml: loading and validation, before any API call.

Every error names the file, the key and what is wrong. Credentials are only
ever `${ENV_VAR}` references resolved from the environment here; resolved
values are registered with the redactor so no log line can show them.

```yaml
reporting: {currency: USD, timezone: UTC}
warehouse: {dir: ./warehouse,          # relative paths are relative to this file
            memory_limit: 8GiB}        # DuckDB's cap for the build (default 80%); spills to <dir>/duckdb_tmp
history_start: 2024-01-01              # the earliest day any window may pull
http: {read_timeout_seconds: 60, request_deadline_seconds: 300, max_response_mib: 256,
       max_retries: 5, backoff_seconds: 1, max_throttle_wait_seconds: 900}
fx: {base_url: https://data-api.ecb.europa.eu, currencies: [USD, GBP]}
channels:
  meta_ads:
    base_url: https://graph.facebook.com/v21.0
    access_token: ${META_ACCESS_TOKEN}
    accounts: ["act_123456789"]
    lookback_days: 28
    conversion_action_type: purchase
schedule: {cron: "0 2 * * *"}          # the nightly run, in reporting.timezone
runs: {max_runtime_seconds: 21600}     # Dagster's run monitoring fails a run older than this
# sandbox: embedded                    # only in the generated sandbox config: socialmart
#                                      # serves the API sandbox itself at the base_urls' port
alerts:
  webhook_url: ${SOCIALMART_ALERT_WEBHOOK}   # Slack-compatible; a credential
families:                              # a brand's accounts and how they reshare each other
  northwind:                           # (the account matrix marts); any configured account
    accounts:
      x: {"3180223118": core, "1188402716553736192": executive}
      weibo: {"5612030001": core, "7745120004": regional}
    thresholds: {hub_min_core_share: 0.6}   # optional: the pattern rules (FAMILY_THRESHOLDS)
```
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from connectors import CONNECTORS, ChannelSettings
from connectors.fx import DEFAULT_CURRENCIES
from connectors.http import RetryPolicy, register_secret

ENV_REFERENCE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
# DuckDB's memory_limit spellings: an amount with its unit, or a share of the machine's RAM.
MEMORY_LIMIT = re.compile(r"^(\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)|([1-9]\d?|100)%)$")
DEFAULT_MEMORY_LIMIT = "80%"  # DuckDB's own default
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")
TOP_LEVEL_KEYS = {"reporting", "warehouse", "history_start", "http", "fx", "channels", "schedule", "alerts", "runs", "sandbox",
                  "families"}
HTTP_KEYS = {"connect_timeout_seconds": "connect_timeout", "read_timeout_seconds": "read_timeout", "max_retries": "max_retries", "backoff_seconds": "backoff_base", "max_throttle_wait_seconds": "max_throttle_wait",  # noqa: E501
             "request_deadline_seconds": "request_deadline", "max_response_mib": "max_response_mib"}
CHANNEL_KEYS = {"base_url", "accounts", "lookback_days"}
DEFAULT_HISTORY_START = dt.date(2024, 1, 1)
DEFAULT_LOOKBACK_DAYS = 28
DEFAULT_SCHEDULE_CRON = "0 2 * * *"
# A night's run takes minutes; one still going after six hours is hung, and
# would hold the daemon's one-run queue forever.
DEFAULT_MAX_RUNTIME_SECONDS = 6 * 3600
# An account's place in its brand's family (the account matrix).
FAMILY_ROLES = ("core", "sub_brand", "regional", "executive", "other")
FAMILY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# The rules that name a family's monthly reshare pattern (dim_account_family_monthly,
# documented in dbt_project/models/marts/_account_matrix__models.yml): defaults,
# each overridable per family under families.<name>.thresholds.
FAMILY_THRESHOLDS: dict[str, float] = {
    "min_reshares": 10,                # fewer reshares in a month: isolated (the accounts act alone)
    "twin_star_min_reach_ratio": 0.5,  # executive's received reach / core's, at least
    "twin_star_min_reciprocity": 0.25,  # core<->executive reshares, smaller direction / larger, at least
    "hub_min_core_share": 0.6,         # share of the reshares that reshare the core, at least
    "hub_max_peer_share": 0.1,         # share of sub-brand/regional -> sub-brand/regional reshares, at most
    "dandelion_min_peer_share": 0.3,   # the same share, at least
}
# Without a config, every command uses the embedded API sandbox through the
# config `socialmart run` generates here (relative to the working directory).
EMBEDDED_CONFIG = Path("warehouse") / "sandbox.socialmart.yaml"
# The sandbox's token: any value works, the sandbox accepts what it was started with.
SANDBOX_TOKEN_VARIABLE = "SOCIALMART_SANDBOX_TOKEN"


class _Loader(yaml.SafeLoader):
    """YAML without implicit timestamps: dates stay strings so that a bad one
    is reported with its key, not as a crash inside the YAML parser."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class ConfigError(ValueError):
    """A problem in the configuration file, named by file and key."""

    def __init__(self, source: Path | str | None, key: str, problem: str) -> None:
        self.source, self.key, self.problem = source, key, problem
        where = str(source) if source else "configuration"
        super().__init__(f"{where}: {key}: {problem}")


@dataclass(frozen=True)
class FamilyAccount:
    channel: str
    account_id: str
    role: str  # one of FAMILY_ROLES


@dataclass
class Family:
    name: str
    accounts: list[FamilyAccount]
    thresholds: dict[str, float]


@dataclass
class Settings:
    source: Path | None
    reporting_currency: str
    reporting_timezone: str
    warehouse_dir: Path
    history_start: dt.date
    fx: ChannelSettings
    channels: dict[str, ChannelSettings] = field(default_factory=dict)
    http: RetryPolicy = field(default_factory=RetryPolicy)
    schedule_cron: str = DEFAULT_SCHEDULE_CRON
    # The alert webhook's URL carries its own secret (Slack's does): resolved
    # from the environment and registered with the redactor like a token.
    alert_webhook_url: str | None = None
    max_runtime_seconds: int = DEFAULT_MAX_RUNTIME_SECONDS
    # DuckDB's memory cap for the build database (dbt's and the pipeline's
    # connections); beyond it, joins and sorts spill to `duckdb_temp_dir`.
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    # `sandbox: embedded`: the base_urls point at the API sandbox socialmart
    # serves itself (orchestration/sandbox_config.py), started on first use.
    embedded_sandbox: bool = False
    # Brand families by name: their accounts and the pattern rules' thresholds.
    families: dict[str, Family] = field(default_factory=dict)

    @property
    def validation_report(self) -> Path:
        """The HTML page of the last run's checks (beside the KPI report)."""
        return self.warehouse_dir / "report" / "validation.html"

    @property
    def duckdb_temp_dir(self) -> Path:
        """Where DuckDB spills what exceeds memory_limit: on the warehouse's disk."""
        return self.warehouse_dir / "duckdb_tmp"

    @property
    def build_db(self) -> Path:
        """Pipeline-owned database: raw landing, dbt models, audits."""
        return self.warehouse_dir / "build.duckdb"

    @property
    def published_db(self) -> Path:
        """The BI file: only ever replaced whole, after the checks pass."""
        return self.warehouse_dir / "marketing.duckdb"

    @property
    def sources(self) -> dict[str, ChannelSettings]:
        """Every source the pipeline pulls: the configured channels plus FX."""
        return {**self.channels, "fx": self.fx}

    def today(self) -> dt.date:
        return dt.datetime.now(ZoneInfo(self.reporting_timezone)).date()


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """--config wins, then $SOCIALMART_CONFIG, then ./socialmart.yaml, then the
    embedded sandbox's config a previous `socialmart run` generated."""
    if explicit:
        return Path(explicit)
    if os.environ.get("SOCIALMART_CONFIG"):
        return Path(os.environ["SOCIALMART_CONFIG"])
    for default in (Path("socialmart.yaml"), EMBEDDED_CONFIG):
        if default.exists():
            return default.resolve()
    return None


def load_settings(path: str | os.PathLike[str], *, resolve_secrets: bool = True) -> Settings:
    """The validated settings of a socialmart.yaml. Commands that call no API
    (status, export, report, docs) pass resolve_secrets=False: credentials'
    references are still checked, their variables need not be set."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(path, "(file)", "does not exist")
    if not path.is_file():
        raise ConfigError(path, "--config", "is a directory, not a socialmart.yaml file")
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(path, "(file)", f"is not valid YAML: {exc}") from None
    return parse_settings(raw or {}, path, resolve_secrets=resolve_secrets)


def parse_settings(raw: Any, source: Path | None = None, *, resolve_secrets: bool = True) -> Settings:
    check = _Checker(source, resolve_secrets)
    root = check.mapping(raw, "(top level)")
    check.known_keys(root, TOP_LEVEL_KEYS, "")
    embedded = root.get("sandbox")
    if embedded not in (None, "embedded"):
        raise ConfigError(source, "sandbox", f"the only value is 'embedded' (the generated sandbox config), got {embedded!r}")
    if embedded and not os.environ.get(SANDBOX_TOKEN_VARIABLE):
        # The embedded sandbox is started by this process (or a child) with
        # whatever token its environment holds: one is made up here.
        os.environ[SANDBOX_TOKEN_VARIABLE] = secrets.token_urlsafe(24)

    reporting = check.mapping(root.get("reporting", {}), "reporting")
    check.known_keys(reporting, {"currency", "timezone"}, "reporting.")
    currency = check.currency(reporting.get("currency", "USD"), "reporting.currency")
    timezone = check.timezone(reporting.get("timezone", "UTC"), "reporting.timezone")

    warehouse = check.mapping(root.get("warehouse", {}), "warehouse")
    check.known_keys(warehouse, {"dir", "memory_limit"}, "warehouse.")
    memory_limit = str(warehouse.get("memory_limit", DEFAULT_MEMORY_LIMIT)).strip()
    if not MEMORY_LIMIT.match(memory_limit):
        raise ConfigError(source, "warehouse.memory_limit",
                          f"must be an amount like 8GiB or 8000MB, or a share of RAM like 50%, got {memory_limit!r}")
    wdir = Path(check.string(warehouse.get("dir", "./warehouse"), "warehouse.dir"))
    if not wdir.is_absolute():
        wdir = (source.parent if source else Path.cwd()) / wdir

    history_start = check.date(root.get("history_start", DEFAULT_HISTORY_START), "history_start")

    http_raw = check.mapping(root.get("http", {}), "http")
    check.known_keys(http_raw, set(HTTP_KEYS), "http.")
    http = RetryPolicy(**{HTTP_KEYS[k]: check.number(v, f"http.{k}") for k, v in http_raw.items()})
    http.max_retries = int(http.max_retries)

    fx_raw = check.mapping(root.get("fx", {}), "fx")
    fx = check.channel("fx", fx_raw, "fx", accounts_required=False)
    # The reporting currency always needs rates, whatever the list says.
    fx.options["currencies"] = sorted(set(fx.options.get("currencies", DEFAULT_CURRENCIES)) | {currency})

    channels_raw = check.mapping(root.get("channels", {}), "channels")
    channels: dict[str, ChannelSettings] = {}
    for name, entry in channels_raw.items():
        if name == "fx" or name not in CONNECTORS:
            known = ", ".join(sorted(k for k in CONNECTORS if k != "fx"))
            raise ConfigError(source, f"channels.{name}", f"unknown channel (known: {known})")
        channels[name] = check.channel(name, check.mapping(entry, f"channels.{name}"), f"channels.{name}")
    if not channels:
        raise ConfigError(source, "channels", "no channel is configured")

    schedule = check.mapping(root.get("schedule", {}), "schedule")
    check.known_keys(schedule, {"cron"}, "schedule.")
    cron = check.cron(schedule["cron"], "schedule.cron") if "cron" in schedule else DEFAULT_SCHEDULE_CRON

    alerts = check.mapping(root.get("alerts", {}), "alerts")
    check.known_keys(alerts, {"webhook_url"}, "alerts.")
    webhook_url = check.secret(alerts["webhook_url"], "alerts.webhook_url") if "webhook_url" in alerts else None
    if webhook_url and not re.match(r"^https?://[^\s]+$", webhook_url):
        # Never echo the value: it is a credential.
        raise ConfigError(source, "alerts.webhook_url", "the environment variable does not hold an http(s) URL")
    runs = check.mapping(root.get("runs", {}), "runs")
    check.known_keys(runs, {"max_runtime_seconds"}, "runs.")
    max_runtime = runs.get("max_runtime_seconds", DEFAULT_MAX_RUNTIME_SECONDS)
    if not isinstance(max_runtime, int) or isinstance(max_runtime, bool) or max_runtime < 60:
        raise ConfigError(source, "runs.max_runtime_seconds", f"must be a whole number of seconds, at least 60, got {max_runtime!r}")
    families = check.families(root.get("families", {}), channels)
    return Settings(source, currency, timezone, wdir, history_start, fx, channels, http,
                    schedule_cron=cron, alert_webhook_url=webhook_url, max_runtime_seconds=max_runtime,
                    memory_limit=memory_limit, embedded_sandbox=bool(embedded), families=families)


def check_warehouse_dir(settings: Settings) -> None:
    """Before a run: warehouse.dir is a directory this process can write (created when missing)."""
    wdir = settings.warehouse_dir
    try:
        wdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(settings.source, "warehouse.dir", f"{wdir} cannot be created: {exc.strerror}") from None
    if not wdir.is_dir():
        raise ConfigError(settings.source, "warehouse.dir", f"{wdir} is not a directory")
    probe = wdir / f".socialmart-write-test-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(settings.source, "warehouse.dir", f"{wdir} is not writable: {exc.strerror}") from None


class _Checker:
    def __init__(self, source: Path | None, resolve_secrets: bool = True) -> None:
        self.source = source
        self.resolve_secrets = resolve_secrets

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.source, key, problem)

    def mapping(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a mapping, got {type(value).__name__}")
        return value

    def known_keys(self, mapping: dict[str, Any], allowed: set[str], prefix: str) -> None:
        for key in mapping:
            if key not in allowed:
                raise self.fail(f"{prefix}{key}", f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def string(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a non-empty string, got {value!r}")
        return value.strip()

    def number(self, value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise self.fail(key, f"must be a non-negative number, got {value!r}")
        return value

    def currency(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not CURRENCY.match(value):
            raise self.fail(key, f"must be an ISO 4217 code such as USD, got {value!r}")
        return value

    def timezone(self, value: Any, key: str) -> str:
        try:
            ZoneInfo(self.string(value, key))
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail(key, f"unknown IANA time zone {value!r}") from None
        return value

    def date(self, value: Any, key: str) -> dt.date:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise self.fail(key, f"must be a date YYYY-MM-DD, got {value!r}") from None

    def cron(self, value: Any, key: str) -> str:
        # Dagster's own parser: what passes here is what the schedule runs.
        # Imported only for a configured cron: dagster is slow to import.
        from dagster._utils.schedules import is_valid_cron_string

        if not isinstance(value, str) or not is_valid_cron_string(value):
            raise self.fail(key, f"must be a cron expression such as '0 2 * * *' (minute hour day month weekday), got {value!r}")
        return value

    def secret(self, value: Any, key: str) -> str:
        match = ENV_REFERENCE.match(value) if isinstance(value, str) else None
        if not match:
            raise self.fail(key, "credentials must be an environment reference like ${META_ACCESS_TOKEN}, never the secret itself")
        variable = match.group(1)
        resolved = os.environ.get(variable)
        if not resolved and not self.resolve_secrets:
            return ""  # a command that calls no API
        if not resolved:
            raise self.fail(key, f"environment variable {variable} is not set")
        register_secret(resolved)
        if CONTROL_CHARACTER.search(resolved):
            # A token file with a line break, read by `$(cat ...)`: sent as a
            # header it is refused or, worse, printed escaped where redaction
            # once missed it. Never echo the value.
            raise self.fail(key, f"environment variable {variable} holds a control character (a line break or "
                                 "tab from a token file?); remove it")
        return resolved

    def channel(self, name: str, entry: dict[str, Any], key: str, accounts_required: bool = True) -> ChannelSettings:
        connector = CONNECTORS[name]
        allowed = CHANNEL_KEYS | set(connector.credential_keys) | set(connector.option_types)
        self.known_keys(entry, allowed, f"{key}.")
        base_url = self.string(entry.get("base_url", connector.default_base_url), f"{key}.base_url")
        if not re.match(r"^https?://[^\s]+$", base_url):
            raise self.fail(f"{key}.base_url", f"must be an http(s) URL, got {base_url!r}")
        credentials = {}
        for cred in connector.credential_keys:
            if cred not in entry:
                raise self.fail(f"{key}.{cred}", "is required")
            credentials[cred] = self.secret(entry[cred], f"{key}.{cred}")
        accounts_raw = entry.get("accounts", [] if not accounts_required else None)
        if accounts_required and (not isinstance(accounts_raw, list) or not accounts_raw):
            raise self.fail(f"{key}.accounts", "must be a non-empty list of account ids")
        accounts: list[str] = []
        for i, account in enumerate(accounts_raw or []):
            try:
                normalized = connector.normalize_account(str(account))
            except ValueError as exc:
                raise self.fail(f"{key}.accounts[{i}]", str(exc)) from None
            if normalized in accounts:
                raise self.fail(f"{key}.accounts[{i}]", f"duplicate account {normalized!r}")
            accounts.append(normalized)
        lookback = entry.get("lookback_days", DEFAULT_LOOKBACK_DAYS)
        if not isinstance(lookback, int) or isinstance(lookback, bool) or not 0 <= lookback <= 400:
            raise self.fail(f"{key}.lookback_days", f"must be a whole number of days between 0 and 400, got {lookback!r}")
        options = {}
        for option, kind in connector.option_types.items():
            if option in entry:
                if not isinstance(entry[option], kind):
                    raise self.fail(f"{key}.{option}", f"must be a {kind.__name__}, got {entry[option]!r}")
                options[option] = entry[option]
        if name == "fx":
            for i, code in enumerate(options.get("currencies", [])):
                self.currency(code, f"{key}.currencies[{i}]")
            accounts = ["ECB"]
        return ChannelSettings(name, base_url, accounts, credentials, lookback, options)

    def families(self, raw: Any, channels: dict[str, ChannelSettings]) -> dict[str, Family]:
        """families: {name: {accounts: {channel: {account: role}}, thresholds: {rule: number}}}."""
        families: dict[str, Family] = {}
        for name, entry in self.mapping(raw, "families").items():
            key = f"families.{name}"
            if not isinstance(name, str) or not FAMILY_NAME.match(name):
                raise self.fail(key, "a family name is lower-case letters, digits and underscores, starting with a letter")
            entry = self.mapping(entry, key)
            self.known_keys(entry, {"accounts", "thresholds"}, f"{key}.")
            accounts_raw = self.mapping(entry.get("accounts"), f"{key}.accounts") if "accounts" in entry else None
            if not accounts_raw:
                raise self.fail(f"{key}.accounts", "is required: the family's accounts by channel, each with its role")
            accounts: list[FamilyAccount] = []
            for channel, members in accounts_raw.items():
                where = f"{key}.accounts.{channel}"
                if channel not in channels:
                    raise self.fail(where, f"channel {channel!r} is not configured under channels "
                                           f"(configured: {', '.join(sorted(channels))})")
                for account, role in self.mapping(members, where).items():
                    try:
                        account_id = CONNECTORS[channel].normalize_account(str(account))
                    except ValueError as exc:
                        raise self.fail(f"{where}.{account}", str(exc)) from None
                    if account_id not in channels[channel].accounts:
                        raise self.fail(f"{where}.{account}", f"account {account_id!r} is not one of channels.{channel}.accounts "
                                                              "(the family's accounts must be pulled)")
                    if role not in FAMILY_ROLES:
                        raise self.fail(f"{where}.{account}", f"role must be one of {', '.join(FAMILY_ROLES)}, got {role!r}")
                    accounts.append(FamilyAccount(channel, account_id, role))
            if not any(a.role == "core" for a in accounts):
                raise self.fail(f"{key}.accounts", "no account has the role core: the patterns are measured around it")
            thresholds_raw = self.mapping(entry.get("thresholds", {}), f"{key}.thresholds")
            self.known_keys(thresholds_raw, set(FAMILY_THRESHOLDS), f"{key}.thresholds.")
            thresholds = dict(FAMILY_THRESHOLDS)
            for rule, value in thresholds_raw.items():
                value = self.number(value, f"{key}.thresholds.{rule}")
                if rule == "min_reshares" and (value != int(value) or value < 1):
                    raise self.fail(f"{key}.thresholds.{rule}", f"must be a whole number of reshares, at least 1, got {value!r}")
                if rule.endswith(("_share", "_reciprocity")) and value > 1:
                    raise self.fail(f"{key}.thresholds.{rule}", f"is a share between 0 and 1, got {value!r}")
                thresholds[rule] = value
            families[name] = Family(name, accounts, thresholds)
        return families
