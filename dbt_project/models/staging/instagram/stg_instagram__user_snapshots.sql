-- One row per account and pull day: the IG User node's follower total,
-- follows and media count as of that pull.
{% call stage(source('raw_instagram', 'user_snapshots'), latest_by=['account_id', 'snapshot_date']) -%}
    snapshot_date,
    account_id,
    followers_count as followers,
    follows_count,
    media_count,
    _synced_at
{%- endcall %}
