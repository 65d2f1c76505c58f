-- Every ad platform's campaigns in one contract (union ad_campaigns), with
-- the utm_campaign that joins them to web analytics: the user's override
-- seed wins over the value each channel read from its ads' URLs.
with campaigns as (
    {{ union_channels('ad_campaigns') }}
),

final as (
    select
        {{ star_except('c', ['utm_campaign']) }},
        coalesce(o.utm_campaign, c.utm_campaign) as utm_campaign,
        o.utm_campaign is not null as utm_campaign_overridden
    from campaigns as c
    left join {{ ref('utm_campaign_overrides') }} as o
        on o.channel = c.channel and o.account_id = c.account_id and o.campaign_id = c.campaign_id
)

select * from final
