-- One row per post. A retweet or a quote is a repost: it links to the
-- original post and its author (how the brand's account family amplifies the
-- core account). Replies keep their reference in stg_x__post_references only.
{%- set content_type -%}
case
            when platform_content_type = 'video' and media_duration_ms < 60000 then 'short_video'
            when platform_content_type = 'video' then 'video'
            when platform_content_type in ('photo', 'animated_gif') then 'image'
            when platform_content_type = 'broadcast' then 'live'
            when platform_content_type = 'link' then 'link'
            else 'text'
        end
{%- endset %}
{%- set is_repost = "reference_type in ('retweeted', 'quoted')" %}
{% call stage(source('raw_x', 'posts'), latest_by=['post_id']) -%}
    {{ contract_columns('posts', {
        'post_id': 'post_id', 'account_id': 'account_id', 'published_at': 'created_at', 'content_type': content_type,
        'platform_content_type': 'platform_content_type', 'text': 'text',
        'permalink': "'https://x.com/i/web/status/' || post_id",
        'original_post_id': 'case when ' ~ is_repost ~ ' then referenced_post_id end',
        'original_account_id': 'case when ' ~ is_repost ~ ' then referenced_author_id end',
        'is_repost': 'coalesce(' ~ is_repost ~ ', false)'}) }},
    reference_type,
    _synced_at
{%- endcall %}
