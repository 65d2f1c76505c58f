-- Daily campaign facts in UTC days and the account currency: the paid daily contract.
with source as (
    select * from {{ source('raw_acme', 'campaign_daily') }}
),

final as (
    select
        date_day,
        account_id,
        campaign_id,
        null::{{ dbt.type_string() }} as campaign_name,  -- the report names none: the campaign's own name is joined downstream
        spend as spend_local,
        impressions,
        null::bigint as reach,
        clicks,
        null::bigint as link_clicks,
        conversions,
        conversion_value as conversion_value_local
    from source
    qualify row_number() over (partition by account_id, date_day, campaign_id order by _synced_at desc) = 1
)

select * from final
