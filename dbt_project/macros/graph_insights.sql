{#- The Graph API's insights land long, one row per account, day and metric
    (a metric Meta retires is a config change, not a schema change). In a
    model that keeps the latest row of each (account_id, date_day, metric)
    and groups by account and day, one metric's value as a column: the max of
    one row, a pivot, not a sum. -#}
{% macro insight(metric) -%}
max(value) filter (where metric = '{{ metric }}')
{%- endmacro %}
