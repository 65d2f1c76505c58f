-- One row per campaign. LinkedIn campaigns carry no UTM tags: utm_campaign is null.
with source as (
    select * from {{ source('raw_linkedin', 'campaigns') }}
),

renamed as (
    select
        account_id,
        campaign_id,
        campaign_name,
        objective,
        status,
        cast(null as {{ dbt.type_string() }}) as utm_campaign,
        campaign_type,
        campaign_group_id,
        start_time,
        end_time as stop_time,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by account_id, campaign_id order by _synced_at desc) = 1
)

select * from final
