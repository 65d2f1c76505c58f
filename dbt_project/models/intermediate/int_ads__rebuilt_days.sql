-- The days this build rebuilt in the daily ad facts (int_ads__campaign_daily,
-- fct_ad_performance_daily, fct_conversion_funnel_daily and their
-- pre-aggregates): those their pulls landed since the last successful build
-- and those of accounts and campaigns whose attributes changed; every day with
-- data on a first build, a --full-refresh, or off DuckDB (where the facts are
-- rebuilt whole). The pipeline's audits of those facts check these days
-- (orchestration/quality): the other days were checked when they were built.
-- depends_on: {{ ref('int_ads__attribute_changes') }}, {{ ref('int_ads__campaign_daily') }}
{%- set streams = ['meta_ads.insights', 'tiktok_ads.campaign_daily', 'linkedin.campaign_daily', 'fx.ecb_rates',
                   'ga4.traffic'] %}
with days as (
    {%- if target.type == 'duckdb' and not flags.FULL_REFRESH %}
    {{ rebuilt_days(streams) }}
    {%- else %}
    select distinct date_day from {{ ref('int_ads__campaign_daily') }}
    {%- endif %}
)

select distinct date_day
from days
where date_day > cast('0001-01-01' as date)  -- rebuilt_days' placeholder day
