-- One row per media item. The shared content type comes from
-- media_product_type first (REELS, STORY), then media_type.
{%- set content_type -%}
case
            when media_product_type = 'REELS' then 'short_video'
            when media_product_type = 'STORY' then 'story'
            when media_type = 'CAROUSEL_ALBUM' then 'carousel'
            when media_type = 'IMAGE' then 'image'
            when media_type = 'VIDEO' then 'video'
        end
{%- endset %}
{% call stage(source('raw_instagram', 'media'), latest_by=['post_id']) -%}
    {{ contract_columns('posts', {
        'post_id': 'media_id', 'account_id': 'account_id', 'published_at': 'published_at', 'content_type': content_type,
        'platform_content_type': "media_product_type || ':' || media_type", 'text': 'caption', 'permalink': 'permalink',
        'is_repost': 'false'}) }},
    _synced_at
{%- endcall %}
