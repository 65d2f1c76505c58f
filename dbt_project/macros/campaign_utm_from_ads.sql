{#- One utm_campaign per campaign, read from its ads (a model with account_id,
    campaign_id, utm_campaign per ad): the value most of its ads carry, ties
    broken alphabetically so the choice is stable. -#}
{% macro campaign_utm_from_ads(ads) -%}
select account_id, campaign_id, utm_campaign
from (
    -- Counted first: a QUALIFY over an aggregate of the same grouped query is DuckDB-only.
    select account_id, campaign_id, utm_campaign, count(*) as ads
    from {{ ads }}
    where utm_campaign is not null
    group by account_id, campaign_id, utm_campaign
) as counted
qualify row_number() over (partition by account_id, campaign_id order by ads desc, utm_campaign) = 1
{%- endmacro %}
