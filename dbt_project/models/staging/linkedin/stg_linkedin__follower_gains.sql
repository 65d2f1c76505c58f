-- One row per organization x UTC day; organicFollowerGain is net of
-- unfollows and may be negative.
{% call stage(source('raw_linkedin', 'follower_gains'), latest_by=['organization_id', 'date_day']) -%}
    date_day,
    organization_id,
    organic_follower_gain,
    paid_follower_gain,
    _synced_at
{%- endcall %}
