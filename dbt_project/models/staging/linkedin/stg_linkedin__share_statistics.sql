-- One row per organization x UTC day. `engagement` is LinkedIn's own rate:
-- kept as sent, never summed or averaged.
{% call stage(source('raw_linkedin', 'share_statistics'), latest_by=['organization_id', 'date_day']) -%}
    date_day,
    organization_id,
    impressions,
    unique_impressions,
    clicks,
    likes,
    comments,
    shares,
    engagement_rate,
    _synced_at
{%- endcall %}
