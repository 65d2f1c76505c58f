-- Attached to the matrix (it reads three marts): Dagster loads it as that
-- mart's asset check, not as a loose observation.
{{ config(meta={'dagster': {'ref': {'name': 'fct_account_matrix_monthly'}}}) }}

-- Reach is not additive over reshares: the same followers see every reshare
-- of one account. Rows returned here are violations:
-- - an edge's potential_reach_added must be ONE of its resharer's audience
--   figures that month (never their sum, never times the reshares);
-- - a resharing account has one audience per month, the same on all its edges;
-- - a family's reach_added is the sum over its DISTINCT resharing accounts.
with amplification as (
    select * from {{ ref('fct_amplification') }}
),

edges as (
    select * from {{ ref('fct_account_matrix_monthly') }}
),

families as (
    select * from {{ ref('dim_account_family_monthly') }}
),

audience_range as (
    select
        family, channel, reshare_month, resharer_account_id,
        min(resharer_followers) as smallest, max(resharer_followers) as largest
    from amplification
    group by family, channel, reshare_month, resharer_account_id
),

edge_outside_its_audiences as (
    select e.family, e.reshare_month, e.from_account_id as account_id,
           'potential_reach_added is not one of the resharer''s follower figures' as problem
    from edges as e
    inner join audience_range as a
        on a.family = e.family and a.channel = e.channel and a.reshare_month = e.reshare_month
        and a.resharer_account_id = e.from_account_id
    where e.potential_reach_added > a.largest or e.potential_reach_added < a.smallest
),

one_audience_per_account as (
    select family, reshare_month, from_account_id as account_id,
           'one resharing account has different audiences on its edges of a month' as problem
    from edges
    group by family, reshare_month, channel, from_account_id
    having count(distinct potential_reach_added) > 1
),

family_reach as (
    select family, reshare_month, sum(audience) as expected
    from (select distinct family, reshare_month, channel, from_account_id, potential_reach_added as audience from edges) as d
    group by family, reshare_month
),

family_sum_differs as (
    select f.family, f.reshare_month, cast(null as {{ dbt.type_string() }}) as account_id,
           'reach_added is not the sum of the distinct resharing accounts'' audiences' as problem
    from families as f
    inner join family_reach as r on r.family = f.family and r.reshare_month = f.reshare_month
    where f.reach_added <> r.expected or (f.reach_added is null) <> (r.expected is null)
)

select * from edge_outside_its_audiences
union all
select * from one_audience_per_account
union all
select * from family_sum_differs
