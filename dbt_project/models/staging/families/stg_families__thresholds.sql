-- The thresholds of the rules that name a family's monthly pattern
-- (families.<name>.thresholds, else orchestration/config.py's defaults).
with source as (
    select * from {{ source('families', 'family_thresholds') }}
),

final as (
    select
        family,
        min_reshares,
        twin_star_min_reach_ratio,
        twin_star_min_reciprocity,
        hub_min_core_share,
        hub_max_peer_share,
        dandelion_min_peer_share
    from source
)

select * from final
