-- Every organic channel's posts in one contract and one content taxonomy.
{{ union_channels('posts', var('post_channels'), {
    'post_id': 'varchar', 'account_id': 'varchar', 'published_at': 'timestamptz', 'content_type': 'varchar',
    'platform_content_type': 'varchar', 'text': 'varchar', 'permalink': 'varchar',
    'original_post_id': 'varchar', 'original_account_id': 'varchar', 'is_repost': 'boolean'}) }}
