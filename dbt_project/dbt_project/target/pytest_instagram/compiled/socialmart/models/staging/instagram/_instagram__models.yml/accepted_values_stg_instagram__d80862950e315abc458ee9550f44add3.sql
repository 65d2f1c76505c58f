
    
    

with all_values as (

    select
        insights_status as value_field,
        count(*) as n_records

    from "build2"."staging"."stg_instagram__post_snapshots"
    group by insights_status

)

select *
from all_values
where value_field not in (
    'ok','not_enough_viewers'
)


