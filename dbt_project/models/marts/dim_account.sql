-- Every account socialmart pulls: ad accounts (paid), GA4 properties (web),
-- organic profiles (organic), with currency and time zone where they have one.
with meta_ads as (
    select 'meta_ads' as channel, account_id, account_name, account_currency as currency, account_timezone as timezone, 'paid' as kind
    from {{ ref('stg_meta_ads__accounts') }}
),

ga4 as (
    select
        'ga4' as channel,
        property_id as account_id,
        'GA4 property ' || property_id as account_name,
        max(property_currency) as currency,
        max(property_timezone) as timezone,
        'web' as kind
    from {{ ref('stg_ga4__traffic') }}
    group by property_id
),

tiktok_ads as (
    select 'tiktok_ads' as channel, account_id, account_name, account_currency as currency, account_timezone as timezone, 'paid' as kind
    from {{ ref('stg_tiktok_ads__accounts') }}
),

linkedin_ads as (
    select 'linkedin' as channel, account_id, account_name, account_currency as currency,
           coalesce(account_timezone, 'UTC') as timezone, 'paid' as kind
    from {{ ref('stg_linkedin__accounts') }}
),

organic as (
    select distinct a.channel, a.account_id, null::{{ dbt.type_string() }} as account_name, null::{{ dbt.type_string() }} as currency,
           c.day_timezone as timezone, 'organic' as kind
    from {{ ref('int_organic__account_days') }} as a  -- every pulled organic account, with data or not
    left join {{ ref('channels') }} as c using (channel)
),

final as (
    select * from meta_ads
    union all select * from ga4
    union all select * from tiktok_ads
    union all select * from linkedin_ads
    union all select * from organic
)

select * from final
