"""The jinja context sqlfluff renders the models in (.sqlfluff: library_path).

sqlfluff's jinja templater stubs dbt's `ref`, `source`, `config`, `this`
and `is_incremental`; the rest of what the models call is answered here,
rendering the SQL dbt runs on DuckDB, so that SQL is what gets linted. Fast
and offline: no dbt, no database.
- `var`: the vars the pipeline passes to dbt (the channel registry,
  orchestration/dbt_vars.py), so the union macros expand to their selects;
- `adapter.dispatch`: our portable macros (dbt_project/macros/portable/),
  their DuckDB form (`default__<name>`);
- `dbt`: dbt's cross-database macros the models use, in DuckDB's spelling;
- `target`: a DuckDB target; `load_relation`: nothing built yet;
- `model`, `flags`: a model node, an incremental (not full-refresh) build.
"""

from pathlib import Path
from types import SimpleNamespace

import jinja2

from orchestration.dbt_vars import dbt_vars

_VARS = {**dbt_vars(), "reporting_currency": "USD"}
_PORTABLE = Path(__file__).resolve().parents[2] / "macros" / "portable"


def var(name, default=None):
    return _VARS[name] if default is None else _VARS.get(name, default)


dbt = SimpleNamespace(
    type_string=lambda: "varchar",
    type_bigint=lambda: "bigint",
    date_trunc=lambda part, expression: f"date_trunc('{part}', {expression})",
    datediff=lambda first, second, part: f"date_diff('{part}', {first}, {second})",
    current_timestamp=lambda: "now()",
)

target = SimpleNamespace(type="duckdb", name="dev", schema="main")
# The node being rendered (a model, none in particular) and the invocation's
# flags (not a --full-refresh): sqlfluff renders is_incremental() true, so the
# incremental branches are linted too.
model = SimpleNamespace(resource_type="model", name="")
flags = SimpleNamespace(FULL_REFRESH=False)


def load_relation(relation):
    """As on a first build: the relation does not exist yet."""
    return None


def _duckdb_macros():
    environment = jinja2.Environment(extensions=["jinja2.ext.do"])
    environment.globals.update(dbt=dbt, target=target, var=var)
    source = "\n".join(path.read_text() for path in sorted(_PORTABLE.glob("*.sql")))
    return environment.from_string(source).module


_MACROS = _duckdb_macros()


def _dispatch(name, macro_namespace=None):
    return getattr(_MACROS, f"default__{name}")


adapter = SimpleNamespace(dispatch=_dispatch)
