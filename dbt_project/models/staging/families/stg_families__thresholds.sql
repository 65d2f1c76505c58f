-- The thresholds of the rules that name a family's monthly pattern
-- (families.<name>.thresholds, else orchestration/config.py's defaults).
{% call stage(source('families', 'family_thresholds')) -%}
    family,
    min_reshares,
    twin_star_min_reach_ratio,
    twin_star_min_reciprocity,
    hub_min_core_share,
    hub_max_peer_share,
    dandelion_min_peer_share
{%- endcall %}
