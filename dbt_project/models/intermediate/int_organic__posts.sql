-- Every organic channel's posts in one contract and one content taxonomy (union posts).
{{ union_channels('posts', {
    'post_id': dbt.type_string(), 'account_id': dbt.type_string(), 'published_at': type_timestamptz(), 'content_type': dbt.type_string(),
    'platform_content_type': dbt.type_string(), 'text': dbt.type_string(), 'permalink': dbt.type_string(),
    'original_post_id': dbt.type_string(), 'original_account_id': dbt.type_string(), 'is_repost': 'boolean'}) }}
