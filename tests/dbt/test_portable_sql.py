"""The models are portable SQL: a type name or function only one engine knows
appears only inside the dispatch macros (dbt_project/macros/portable/, dbt's
cross-database macros), never in a model or a contract. Each rule names the
macro to use instead."""

import re
from pathlib import Path

import yaml

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"

# pattern -> what to use instead
ENGINE_ONLY = {
    r"\bvarchar\b": "dbt.type_string()",
    r"\bhugeint\b": "dbt.type_bigint() (cast the sum)",
    r"\btimestamptz\b|timestamp with time zone": "type_timestamptz()",
    r"\*\s*exclude\s*\(|\*\s*except\s*\(": "star_except()",
    r"\basof\b": "a running max over the days (int_fx__daily_rates)",
    r"\brange\s*\(|\bgenerate_series\s*\(|\bsequence\s*\(|\bunnest\s*\(|\bexplode\s*\(": "day_series() / unnest_days()",
    r"\bisoyear\s*\(|\byearofweek\b": "iso_year()",
    r"\bisodow\s*\(|\bdayofweek_iso\b": "iso_day_of_week()",
    r"\bdayname\s*\(": "day_name() (Spark's dayname gives 'Mon')",
    r"\bweek\s*\(": "weekofyear() (ISO week on both)",
    r"\bdatediff\s*\(|\bdate_diff\s*\(": "dbt.datediff()",
    r"\bat\s+time\s+zone\b|\btimezone\s*\(|\bconvert_timezone\s*\(|\bfrom_utc_timestamp\s*\(": "local_date() / instant_at() / utc_timestamp()",
    r"\barg_max\s*\(|\barg_min\s*\(": "max_by() / min_by()",
    r"\bstring_agg\s*\(|\blistagg\s*\(|\bgroup_concat\s*\(": "ordered_string_agg()",
    r"\bignore\s+nulls\b": "first_value_ignore_nulls()",
    r"\b(?:list|struct|map)_\w+\s*\(|->>": "no nested types in models",
}
PORTABLE_CONTRACT_TYPES = re.compile(r"^(string|bigint|integer|double|date|boolean|timestamp|decimal\(\d+,\s*\d+\))$")


def sql_outside_macros(text: str) -> str:
    """The model's own SQL: comments and Jinja (macro calls, whose arguments
    are expressions the macro places) removed."""
    text = re.sub(r"\{#.*?#\}", " ", text, flags=re.S)
    text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", " ", text, flags=re.S)
    return re.sub(r"--[^\n]*", " ", text)


def engine_only_uses(text: str) -> list[str]:
    sql = sql_outside_macros(text).lower()
    return [f"{m.group(0)!r}: use {instead}" for pattern, instead in ENGINE_ONLY.items() for m in re.finditer(pattern, sql)]


def test_the_rules_catch_engine_only_sql_and_spare_macro_calls():
    assert engine_only_uses("select x::varchar from t") == ["'varchar': use dbt.type_string()"]
    assert engine_only_uses("select t.* exclude (a) from t asof join u on t.d >= u.d")
    assert engine_only_uses("select (ts at time zone 'UTC')::date, dayname(d), arg_max(a, b) from t")
    assert engine_only_uses("select x::{{ dbt.type_string() }}, {{ day_name('d') }} -- varchar in a comment\nfrom t") == []


def test_no_model_uses_an_engine_only_type_or_function():
    found = {}
    for path in sorted((DBT_PROJECT / "models").rglob("*.sql")):
        uses = engine_only_uses(path.read_text())
        if uses:
            found[str(path.relative_to(DBT_PROJECT))] = uses
    assert not found, found


def test_contract_types_are_names_both_engines_resolve():
    odd = []
    for path in sorted((DBT_PROJECT / "models").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            for column in model.get("columns", []):
                data_type = column.get("data_type")
                if data_type is None or "{{" in data_type and "target.type" in data_type:
                    continue
                if not PORTABLE_CONTRACT_TYPES.match(data_type.replace(" ", "")):
                    odd.append(f"{model['name']}.{column['name']}: {data_type}")
    assert not odd, odd
