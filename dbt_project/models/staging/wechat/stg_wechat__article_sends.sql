-- One row per mass-message article and the Beijing day it was sent
-- (getarticletotal: ref_date is the send date, unlike getarticlesummary's
-- read date). The latest pull wins.
{% call stage(source('raw_wechat', 'article_total'), latest_by=['account_id', 'post_id']) -%}
    ref_date as sent_date,
    account_id,
    msgid as post_id,
    title,
    target_user as recipients,
    _synced_at
{%- endcall %}
