-- One row per article and Beijing day. WeChat reports each day's reads,
-- shares and favourites of an article (not lifetime totals), so this is the
-- channel's per-post daily fact; there are no lifetime snapshots to take.
-- Impressions, likes, comments and clicks are not in getarticlesummary.
{% call stage(source('raw_wechat', 'article_summary'), latest_by=['account_id', 'post_id', 'date_day']) -%}
    {{ contract_columns('post_daily', {
        'date_day': 'ref_date', 'post_id': 'msgid', 'account_id': 'account_id', 'views': 'int_page_read_count',
        'reach': 'int_page_read_user', 'shares': 'share_count', 'saves': 'add_to_fav_count',
        'engagements': 'share_count + add_to_fav_count'}) }},
    title,
    ori_page_read_count as original_page_views,
    ori_page_read_user as original_page_readers,
    share_user as share_users,
    add_to_fav_user as save_users,
    _synced_at
{%- endcall %}
