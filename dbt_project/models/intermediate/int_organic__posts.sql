-- Every organic channel's posts in one contract and one content taxonomy (union posts).
{{ union_channels('posts', {
    'post_id': 'varchar', 'account_id': 'varchar', 'published_at': 'timestamptz', 'content_type': 'varchar',
    'platform_content_type': 'varchar', 'text': 'varchar', 'permalink': 'varchar',
    'original_post_id': 'varchar', 'original_account_id': 'varchar', 'is_repost': 'boolean'}) }}
