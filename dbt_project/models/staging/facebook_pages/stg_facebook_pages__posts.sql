-- One row per Page post. content_type maps Facebook's types into the shared
-- taxonomy; Page posts are the Page's own, so the repost columns are empty.
{% call stage(source('raw_facebook_pages', 'posts'), latest_by=['post_id']) -%}
    {{ contract_columns('posts', {
        'post_id': 'post_id', 'account_id': 'account_id', 'published_at': 'created_time',
        'content_type': case_lookup('platform_content_type', {
            'photo': 'image', 'video': 'video', 'reel': 'short_video', 'link': 'link', 'status': 'text', 'live': 'live',
            'album': 'carousel'}),
        'platform_content_type': 'platform_content_type', 'text': 'message', 'permalink': 'permalink_url',
        'is_repost': 'false'}) }},
    _synced_at
{%- endcall %}
