{#- The organic account_daily contract of an API that serves its daily
    measures and its follower total apart (the total a snapshot stream
    pulled): one row per account and day that either reported, `followers`
    the total on the day it was pulled, null on other days (back-casting it is
    the marts' business).
    - `daily`: a relation of `date_day`, `account_id` and the day's measures;
    - `totals`: one of `snapshot_date`, `account_id` and `followers`;
    - `columns`: the contract's other columns as expressions over the aliases
      `daily` and `totals` (contract_columns: an absent one is a typed null);
    - `extra_columns`: the channel's own select-list items after them. -#}
{% macro account_daily_with_totals(daily, totals, columns, extra_columns=[]) -%}
{%- set mapped = {
    'date_day': 'coalesce(daily.date_day, totals.snapshot_date)',
    'account_id': 'coalesce(daily.account_id, totals.account_id)',
    'followers': 'totals.followers'} -%}
{%- do mapped.update(columns) -%}
select
        {{ contract_columns('account_daily', mapped) | trim }}
        {%- for column in extra_columns %},
        {{ column }}
        {%- endfor %}
    from {{ daily }} as daily
    full outer join {{ totals }} as totals
        on totals.account_id = daily.account_id
        and totals.snapshot_date = daily.date_day
{%- endmacro %}
