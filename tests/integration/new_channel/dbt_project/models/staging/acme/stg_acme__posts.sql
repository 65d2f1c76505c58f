-- One row per post: the posts contract, in the shared content taxonomy.
{% call stage(source('raw_acme', 'posts'), latest_by=['post_id']) -%}
    {{ contract_columns('posts', {
        'post_id': 'post_id', 'account_id': 'account_id', 'published_at': 'published_at',
        'content_type': "case post_type when 'video' then 'video' when 'image' then 'image' else 'text' end",
        'platform_content_type': 'post_type', 'text': 'text', 'permalink': 'url', 'is_repost': 'false'}) }},
    _synced_at
{%- endcall %}
