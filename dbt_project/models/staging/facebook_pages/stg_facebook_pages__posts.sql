-- One row per Page post. content_type maps Facebook's types into the shared
-- taxonomy; Page posts are the Page's own, so the repost columns are empty.
{%- set content_type -%}
case platform_content_type
            when 'photo' then 'image'
            when 'video' then 'video'
            when 'reel' then 'short_video'
            when 'link' then 'link'
            when 'status' then 'text'
            when 'live' then 'live'
            when 'album' then 'carousel'
        end
{%- endset %}
{% call stage(source('raw_facebook_pages', 'posts'), latest_by=['post_id']) -%}
    {{ contract_columns('posts', {
        'post_id': 'post_id', 'account_id': 'account_id', 'published_at': 'created_time', 'content_type': content_type,
        'platform_content_type': 'platform_content_type', 'text': 'message', 'permalink': 'permalink_url',
        'is_repost': 'false'}) }},
    _synced_at
{%- endcall %}
