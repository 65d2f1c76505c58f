{#- How a paid channel's campaigns get the utm_campaign that joins them to web
    analytics when the campaign itself carries none: from the UTM tags of its
    ads' URLs. -#}

{#- The staging model of a paid channel's ads (a raw table of account_id,
    ad_id, ad_name, campaign_id, `url_column` and the utm_* tags the connector
    parsed from that URL): the tags as GA4 reads them, source and medium
    lower-cased, blank as null. -#}
{% macro ads_with_utm_tags(relation, url_column) -%}
{% call stage(relation, latest_by=['account_id', 'ad_id']) -%}
    account_id,
    ad_id,
    ad_name,
    campaign_id,
    {{ url_column }},
    lower(nullif(trim(utm_source), '')) as utm_source,
    lower(nullif(trim(utm_medium), '')) as utm_medium,
    nullif(trim(utm_campaign), '') as utm_campaign,
    _synced_at
{%- endcall %}
{%- endmacro %}

{#- A channel's campaigns in the ad_campaigns contract, each with the
    utm_campaign most of its ads carry (ties broken alphabetically so the
    choice is stable; null when no ad is tagged). `campaigns` has the
    contract's other columns but those in `absent` (null: the API has none). -#}
{% macro campaigns_with_ad_utm(campaigns, ads, absent=[]) -%}
{%- set columns = {'utm_campaign': 'ad_utm.utm_campaign'} -%}
{%- for name in union_contract('ad_campaigns') if name not in absent and name != 'utm_campaign' -%}
{%- do columns.update({name: 'campaigns.' ~ name}) -%}
{%- endfor -%}
with campaigns as (
    select * from {{ campaigns }}
),

ad_utm as (
    select account_id, campaign_id, utm_campaign
    from (
        -- Counted first: a QUALIFY over an aggregate of the same grouped query is DuckDB-only.
        select account_id, campaign_id, utm_campaign, count(*) as ads
        from {{ ads }}
        where utm_campaign is not null
        group by account_id, campaign_id, utm_campaign
    ) as counted
    qualify row_number() over (partition by account_id, campaign_id order by ads desc, utm_campaign) = 1
),

final as (
    select
        {{ contract_columns('ad_campaigns', columns) | trim }}
    from campaigns
    left join ad_utm using (account_id, campaign_id)
)

select * from final
{%- endmacro %}
