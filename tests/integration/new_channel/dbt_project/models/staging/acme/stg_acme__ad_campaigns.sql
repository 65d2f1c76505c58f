-- One row per Acme campaign: the paid campaigns contract (no schedule is pulled).
with source as (
    select * from {{ source('raw_acme', 'campaigns') }}
),

final as (
    select
        account_id,
        campaign_id,
        campaign_name,
        objective,
        status,
        null::timestamptz as start_time,
        null::timestamptz as stop_time,
        utm_campaign
    from source
    qualify row_number() over (partition by account_id, campaign_id order by _synced_at desc) = 1
)

select * from final
