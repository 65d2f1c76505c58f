-- One row per official account x Beijing day x acquisition source.
{% call stage(source('raw_wechat', 'user_summary'), latest_by=['account_id', 'date_day', 'user_source']) -%}
    ref_date as date_day,
    account_id,
    user_source,
    case user_source
        when 0 then 'other'
        when 1 then 'search'
        when 17 then 'business_card_share'
        when 30 then 'qr_code'
        when 51 then 'after_payment'
        when 57 then 'article_account_name'
        when 100 then 'wechat_ads'
        when 149 then 'mini_program'
        when 161 then 'reprint'
        when 200 then 'channels'
        when 201 then 'live'
        else 'source_' || user_source
    end as user_source_name,
    new_user as followers_gained,
    cancel_user as followers_lost,
    _synced_at
{%- endcall %}
