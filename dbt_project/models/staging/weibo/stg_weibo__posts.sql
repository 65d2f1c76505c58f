-- One row per status. A repost (retweeted_status) links to the original and
-- its author: the brand's account matrix amplifying the core account. The
-- author is null when the original was deleted.
{%- set content_type -%}
case
            when platform_content_type = 'video' and video_duration_seconds < 60 then 'short_video'
            when platform_content_type = 'video' then 'video'
            when platform_content_type = 'live' then 'live'
            when platform_content_type = 'article' then 'article'
            when platform_content_type = 'webpage' then 'link'
            when platform_content_type = 'image' then 'image'
            else 'text'
        end
{%- endset %}
{% call stage(source('raw_weibo', 'posts'), latest_by=['post_id']) -%}
    {{ contract_columns('posts', {
        'post_id': 'post_id', 'account_id': 'account_id', 'published_at': 'created_at', 'content_type': content_type,
        'platform_content_type': 'platform_content_type', 'text': 'text',
        'permalink': "'https://weibo.com/' || account_id || '/' || post_id", 'original_post_id': 'original_post_id',
        'original_account_id': 'original_author_id', 'is_repost': 'original_post_id is not null'}) }},
    created_date as published_date,
    original_created_at as original_published_at,
    _synced_at
{%- endcall %}
