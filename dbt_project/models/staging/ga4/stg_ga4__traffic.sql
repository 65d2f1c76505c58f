-- GA4's bounceRate is a ratio: it is not carried forward. Marts recompute
-- bounce rate as 1 - sum(engaged_sessions) / sum(sessions) at their grain.
{% call stage(source('raw_ga4', 'traffic'), latest_by=[
    'property_id', 'date_day', 'session_source', 'session_medium', 'session_campaign_name', 'landing_page']) -%}
    date_day,
    account_id as property_id,
    lower(session_source) as session_source,
    lower(session_medium) as session_medium,
    session_campaign_name,
    landing_page,
    sessions,
    engaged_sessions,
    coalesce(key_events, 0) as key_events,
    coalesce(total_revenue, 0) as total_revenue_local,
    upper(currency_code) as property_currency,
    time_zone as property_timezone,
    _synced_at
{%- endcall %}
