{#- Select-list and aggregate forms that DuckDB and Spark spell differently. -#}

{#- Every column of `relation_alias` but `columns`: DuckDB's * EXCLUDE, Spark's * EXCEPT. -#}
{% macro star_except(relation_alias, columns) %}{{ return(adapter.dispatch('star_except', 'socialmart')(relation_alias, columns)) }}{% endmacro %}
{% macro default__star_except(relation_alias, columns) %}{{ relation_alias }}.* exclude ({{ columns | join(', ') }}){% endmacro %}
{% macro spark__star_except(relation_alias, columns) %}{{ relation_alias }}.* except ({{ columns | join(', ') }}){% endmacro %}

{#- The values of a group joined by `delimiter` in a stated order. dbt's own
    listagg() cannot order on Spark (it warns and collects in any order). -#}
{% macro ordered_string_agg(expression, delimiter, order_by) %}{{ return(adapter.dispatch('ordered_string_agg', 'socialmart')(expression, delimiter, order_by)) }}{% endmacro %}
{% macro default__ordered_string_agg(expression, delimiter, order_by) %}string_agg({{ expression }}, {{ delimiter }} order by {{ order_by }}){% endmacro %}
{% macro spark__ordered_string_agg(expression, delimiter, order_by) %}listagg({{ expression }}, {{ delimiter }}) within group (order by {{ order_by }}){% endmacro %}

{#- The first non-null value of a window frame: DuckDB's IGNORE NULLS goes
    inside the call, Spark's as a second argument. -#}
{% macro first_value_ignore_nulls(expression) %}{{ return(adapter.dispatch('first_value_ignore_nulls', 'socialmart')(expression)) }}{% endmacro %}
{% macro default__first_value_ignore_nulls(expression) %}first_value({{ expression }} ignore nulls){% endmacro %}
{% macro spark__first_value_ignore_nulls(expression) %}first_value({{ expression }}, true){% endmacro %}
