-- Total followers of each organization page as of each pull day.
{% call stage(source('raw_linkedin', 'total_followers'), latest_by=['snapshot_date', 'account_id']) -%}
    snapshot_date,
    organization_id as account_id,
    followers,
    _synced_at
{%- endcall %}
