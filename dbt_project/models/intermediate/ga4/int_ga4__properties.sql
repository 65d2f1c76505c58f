-- One row per GA4 property, in the web properties contract (union
-- web_properties): its currency and time zone as its reports carry them.
with traffic as (
    select * from {{ ref('stg_ga4__traffic') }}
),

final as (
    select
        property_id as account_id,
        'GA4 property ' || property_id as account_name,
        max(property_currency) as currency,
        max(property_timezone) as timezone
    from traffic
    group by property_id
)

select * from final
