-- One row per upload. content_type is already in the shared taxonomy (the
-- connector maps live broadcasts and replays to live, <= 60 s to
-- short_video, the rest to video); YouTube has no reposts.
{% call stage(source('raw_youtube', 'videos'), latest_by=['post_id']) -%}
    {{ contract_columns('posts', {
        'post_id': 'video_id', 'account_id': 'account_id', 'published_at': 'published_at', 'content_type': 'content_type',
        'platform_content_type': 'platform_content_type', 'text': 'title', 'permalink': 'permalink',
        'is_repost': 'false'}) }},
    duration_seconds,
    _synced_at
{%- endcall %}
