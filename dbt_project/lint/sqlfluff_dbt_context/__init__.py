"""The jinja context sqlfluff renders the models in (.sqlfluff: library_path).

sqlfluff's jinja templater stubs dbt's `ref`, `source` and `config`; `var`
answers here with the vars the pipeline passes to dbt (the channel registry,
orchestration/dbt_vars.py), so the union macros expand to the selects dbt
runs and those get linted too. Fast and offline: no dbt, no database.
"""

from orchestration.dbt_vars import dbt_vars

_VARS = {**dbt_vars(), "reporting_currency": "USD"}


def var(name, default=None):
    return _VARS[name] if default is None else _VARS.get(name, default)
