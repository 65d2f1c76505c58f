-- Every account socialmart pulls: ad accounts (paid), web analytics
-- properties (web), organic profiles (organic), with currency and time zone
-- where they have one.
with ad_accounts as (
    select
        channel,
        account_id,
        account_name,
        account_currency as currency,
        account_timezone as timezone,
        'paid' as kind
    from {{ ref('int_ads__accounts') }}
),

web_properties as (
    select channel, account_id, account_name, currency, timezone, 'web' as kind
    from (
        {{ union_channels('web_properties') }}
    )
),

organic as (
    select distinct
        a.channel,
        a.account_id,
        null::{{ dbt.type_string() }} as account_name,
        null::{{ dbt.type_string() }} as currency,
        c.day_timezone as timezone,
        'organic' as kind
    from {{ ref('int_organic__account_days') }} as a  -- every pulled organic account, with data or not
    left join {{ ref('int_channels') }} as c using (channel)
    -- an account that both advertises and posts under one id is one row: its ad account's
    anti join ad_accounts as p on p.channel = a.channel and p.account_id = a.account_id
),

final as (
    select * from ad_accounts
    union all
    select * from web_properties
    union all
    select * from organic
)

select * from final
