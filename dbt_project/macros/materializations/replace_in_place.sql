{#- Tables and views on DuckDB are replaced in place: dropped if they exist
    and created again, inside the model's transaction. dbt's own
    materializations build aside and swap instead: create X__dbt_tmp, rename
    X to X__dbt_backup, rename X__dbt_tmp to X, then drop the backup.

    Why replace in place:
    - DuckDB's DDL is transactional, so the replace is as atomic as the swap,
      and a model that fails keeps its old relation (the transaction rolls back).
    - The SQL is the same whether or not the relation exists. A warehouse's
      first build therefore runs the SQL of every later build, and the next
      build can replay it (orchestration/dbt_replay.py). With the swap, the
      second build was always a dbt build, as slow as the first.
    - It takes two statements per model instead of five.

    The relation is created by dbt-duckdb's own macros, so a model's enforced
    contract (its columns, types and constraints) holds as before. The
    incremental daily facts keep dbt-duckdb's materialization
    (macros/incremental_days.sql). The Spark target keeps dbt-spark's. -#}

{% materialization table, adapter='duckdb', supported_languages=['sql'] %}
    {%- set target_relation = this.incorporate(type='table') -%}
    {{ _replace_in_place(target_relation, compiled_code, pre_hooks, post_hooks) }}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{% materialization view, adapter='duckdb', supported_languages=['sql'] %}
    {%- set target_relation = this.incorporate(type='view') -%}
    {{ _replace_in_place(target_relation, compiled_code, pre_hooks, post_hooks) }}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{#- The model's SQL and hooks are passed: a macro a materialization calls does not see them. -#}
{% macro _replace_in_place(target_relation, compiled_code, pre_hooks, post_hooks) %}
    {%- set existing_relation = load_cached_relation(this) -%}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {#- A model whose materialization changed (a view that became a table):
        DuckDB drops an object only by its own type. -#}
    {%- if existing_relation is not none and existing_relation.type != target_relation.type %}
        {{ drop_relation_if_exists(existing_relation) }}
    {%- endif %}
    {% call statement('main') -%}
        drop {{ target_relation.type }} if exists {{ target_relation }};
        {% if target_relation.type == 'table' -%}
            {{ create_table_as(False, target_relation, compiled_code) }}
        {%- else -%}
            {{ get_create_view_as_sql(target_relation, compiled_code) }}
        {%- endif %}
    {%- endcall %}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
{% endmacro %}
