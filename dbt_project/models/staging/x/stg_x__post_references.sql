-- One row per post and referenced post: retweeted, quoted or replied_to.
-- The referenced author and creation time are null when X reported the
-- referenced post missing (deleted or protected: a partial error under HTTP 200).
{% call stage(source('raw_x', 'post_references'), latest_by=['post_id', 'reference_type', 'referenced_post_id']) -%}
    post_id,
    account_id,
    created_date,
    reference_type,
    referenced_post_id,
    referenced_author_id,
    referenced_created_at as referenced_published_at,
    _synced_at
{%- endcall %}
