-- Each post's views and likes per day, as the API reports them: the post_daily contract.
{% call stage(source('raw_acme', 'post_daily'), latest_by=['date_day', 'post_id']) -%}
    {{ contract_columns('post_daily', {
        'date_day': 'date_day', 'post_id': 'post_id', 'account_id': 'account_id', 'views': 'views', 'likes': 'likes',
        'engagements': 'likes'}) }},
    _synced_at
{%- endcall %}
