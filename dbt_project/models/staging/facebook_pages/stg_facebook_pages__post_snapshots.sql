-- Lifetime counters of each post as of snapshot_date (the pull day); daily
-- deltas are derived downstream. likes counts all reactions
-- (post_reactions_by_type_total summed). Comments, shares, saves and
-- impressions are not in the post insights we request: null, not zero.
{% call stage(source('raw_facebook_pages', 'post_snapshots'), latest_by=['snapshot_date', 'post_id']) -%}
    {{ contract_columns('post_snapshots', {
        'snapshot_date': 'snapshot_date', 'post_id': 'post_id', 'account_id': 'account_id',
        'views': 'views', 'reach': 'reach', 'likes': 'reactions', 'clicks': 'clicks'}) }},
    _synced_at
{%- endcall %}
