-- Month x family: which reshare pattern the family's accounts followed, and
-- the evidence that decided it. One row for every month with a pulled day of
-- any family account (a month without reshares is `isolated`).
-- The evidence (shares are of the month's reshares inside the family):
-- - core_share_received: reshares of a core account's posts;
-- - peer_share: reshares from a sub-brand or regional account to another
--   sub-brand or regional account (the spokes resharing each other);
-- - exec_core_reach_ratio: the reach the executive's posts received / the
--   reach the core's posts received, a role's received reach being the
--   audiences of the distinct accounts that reshared it (each counted once);
--   null without an executive or when the core received no known reach;
-- - core_exec_reciprocity: core -> executive and executive -> core reshares,
--   the smaller direction / the larger (null when neither happened);
-- - reciprocity: the family's weighted reciprocity, the share of reshares
--   matched by reshares in the opposite direction of the same pair
--   (sum of min(w_ab, w_ba) / sum of w_ab).
-- The rules, first match wins, with each family's thresholds
-- (socialmart.yaml families.<name>.thresholds; defaults in orchestration/config.py):
--   isolated   reshares < min_reshares
--   twin_star  exec_core_reach_ratio >= twin_star_min_reach_ratio
--              and core_exec_reciprocity >= twin_star_min_reciprocity
--   hub        core_share_received >= hub_min_core_share and peer_share <= hub_max_peer_share
--   dandelion  peer_share >= dandelion_min_peer_share
--   mixed      none of the above
with members as (
    select * from {{ ref('stg_families__accounts') }}
),

matrix as (
    select * from {{ ref('fct_account_matrix_monthly') }}
),

family_months as (
    select distinct
        m.family,
        cast({{ dbt.date_trunc('month', 'd.date_day') }} as date) as reshare_month
    from members as m
    inner join {{ ref('int_organic__account_days') }} as d
        on d.channel = m.channel and d.account_id = m.account_id
    where d.is_pulled_window_day
    union
    select distinct family, reshare_month from matrix
),

family_size as (
    select family, count(*) as accounts, max(case when role = 'executive' then 1 else 0 end) as has_executive
    from members
    group by family
),

volumes as (
    select
        family,
        reshare_month,
        cast(sum(reshares) as bigint) as reshares,
        count(distinct channel || ':' || from_account_id) as resharing_accounts,
        cast(sum(case when to_role = 'core' then reshares else 0 end) as bigint) as reshares_of_core,
        sum(case when from_role in ('sub_brand', 'regional') and to_role in ('sub_brand', 'regional')
            then reshares else 0 end) as peer_reshares,
        sum(case when from_role = 'core' and to_role = 'executive' then reshares else 0 end) as core_to_executive,
        sum(case when from_role = 'executive' and to_role = 'core' then reshares else 0 end) as executive_to_core,
        cast(sum(case when reshares < reverse_reshares then reshares else reverse_reshares end) as bigint) as reciprocated_reshares,
        cast(sum(reshare_engagements) as bigint) as reshare_engagements
    from matrix
    group by family, reshare_month
),

-- Each resharing account's audience once per month (the same on all its edges).
audiences as (
    select distinct family, reshare_month, channel, from_account_id, potential_reach_added
    from matrix
),

reach as (
    select family, reshare_month, cast(sum(potential_reach_added) as bigint) as reach_added
    from audiences
    group by family, reshare_month
),

-- The audiences that reshared a role's posts: each resharing account once per role.
received as (
    select family, reshare_month, to_role, cast(sum(potential_reach_added) as bigint) as reach_received
    from (select distinct family, reshare_month, to_role, channel, from_account_id, potential_reach_added from matrix) as by_role
    group by family, reshare_month, to_role
),

lags as (
    select family, reshare_month, percentile_cont(0.5) within group (order by lag_hours) as median_lag_hours
    from {{ ref('fct_amplification') }}
    group by family, reshare_month
),

evidence as (
    select
        fm.reshare_month,
        fm.family,
        s.accounts,
        coalesce(v.reshares, 0) as reshares,
        coalesce(v.resharing_accounts, 0) as resharing_accounts,
        {{ safe_divide('v.reshares_of_core', 'v.reshares') }} as core_share_received,
        {{ safe_divide('v.peer_reshares', 'v.reshares') }} as peer_share,
        case when s.has_executive = 1 then
            {{ safe_divide('coalesce(exec_reach.reach_received, 0)', 'core_reach.reach_received') }}
        end as exec_core_reach_ratio,
        {{ safe_divide('least(v.core_to_executive, v.executive_to_core)', 'greatest(v.core_to_executive, v.executive_to_core)') }}
            as core_exec_reciprocity,
        {{ safe_divide('v.reciprocated_reshares', 'v.reshares') }} as reciprocity,
        r.reach_added,
        v.reshare_engagements,
        l.median_lag_hours,
        t.min_reshares,
        t.twin_star_min_reach_ratio,
        t.twin_star_min_reciprocity,
        t.hub_min_core_share,
        t.hub_max_peer_share,
        t.dandelion_min_peer_share
    from family_months as fm
    inner join family_size as s on s.family = fm.family
    inner join {{ ref('stg_families__thresholds') }} as t on t.family = fm.family
    left join volumes as v on v.family = fm.family and v.reshare_month = fm.reshare_month
    left join reach as r on r.family = fm.family and r.reshare_month = fm.reshare_month
    left join lags as l on l.family = fm.family and l.reshare_month = fm.reshare_month
    left join received as exec_reach
        on exec_reach.family = fm.family and exec_reach.reshare_month = fm.reshare_month and exec_reach.to_role = 'executive'
    left join received as core_reach
        on core_reach.family = fm.family and core_reach.reshare_month = fm.reshare_month and core_reach.to_role = 'core'
),

classified as (
    select
        *,
        case
            when reshares < min_reshares then 'isolated'
            when exec_core_reach_ratio >= twin_star_min_reach_ratio
                and core_exec_reciprocity >= twin_star_min_reciprocity then 'twin_star'
            when core_share_received >= hub_min_core_share and peer_share <= hub_max_peer_share then 'hub'
            when peer_share >= dandelion_min_peer_share then 'dandelion'
            else 'mixed'
        end as pattern
    from evidence
),

final as (
    select
        reshare_month,
        family,
        pattern,
        case pattern
            when 'isolated' then {{ matrix_number('reshares', 0) }} || ' reshares < min_reshares ' || {{ matrix_number('min_reshares', 0) }}
            when 'twin_star' then 'exec_core_reach_ratio ' || {{ matrix_number('exec_core_reach_ratio') }}
                || ' >= ' || {{ matrix_number('twin_star_min_reach_ratio') }}
                || ' and core_exec_reciprocity ' || {{ matrix_number('core_exec_reciprocity') }}
                || ' >= ' || {{ matrix_number('twin_star_min_reciprocity') }}
            when 'hub' then 'core_share_received ' || {{ matrix_number('core_share_received') }}
                || ' >= ' || {{ matrix_number('hub_min_core_share') }}
                || ' and peer_share ' || {{ matrix_number('peer_share') }} || ' <= ' || {{ matrix_number('hub_max_peer_share') }}
            when 'dandelion' then 'peer_share ' || {{ matrix_number('peer_share') }}
                || ' >= ' || {{ matrix_number('dandelion_min_peer_share') }}
                || ' and not a hub (core_share_received ' || {{ matrix_number('core_share_received') }} || ')'
            else 'no rule matched'
        end as pattern_rule,
        accounts,
        reshares,
        resharing_accounts,
        core_share_received,
        peer_share,
        exec_core_reach_ratio,
        core_exec_reciprocity,
        reciprocity,
        reach_added,
        reshare_engagements,
        median_lag_hours
    from classified
)

select * from final
