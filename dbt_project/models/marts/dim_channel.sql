-- Every channel socialmart knows, with how GA4 attributes its traffic: the
-- GA4 source / medium pairs mapped to it (seed ga4_source_channels) and
-- whether GA4 has reported any traffic from them. Without both, its web
-- measures (sessions, key events, revenue) are unknown, not zero.
with mapped as (
    select channel, {{ ordered_string_agg("session_source || ' / ' || session_medium", "', '", 'session_source, session_medium') }} as ga4_sources
    from {{ ref('ga4_source_channels') }}
    group by channel
),

attributed as (
    select distinct ad_channel as channel from {{ ref('int_ga4__traffic_daily') }} where ad_channel is not null
),

final as (
    select
        c.channel::{{ dbt.type_string() }} as channel,
        c.platform::{{ dbt.type_string() }} as platform,
        c.channel_name::{{ dbt.type_string() }} as channel_name,
        c.kind::{{ dbt.type_string() }} as kind,
        c.day_timezone::{{ dbt.type_string() }} as day_timezone,
        c.paid_channel::{{ dbt.type_string() }} as paid_channel,
        m.ga4_sources::{{ dbt.type_string() }} as ga4_sources,
        a.channel is not null as ga4_attributed
    from {{ ref('int_channels') }} as c
    left join mapped as m using (channel)
    left join attributed as a using (channel)
)

select * from final
