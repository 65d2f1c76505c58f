
    
    

with all_values as (

    select
        dimension as value_field,
        count(*) as n_records

    from "build2"."staging"."stg_instagram__follower_demographics"
    group by dimension

)

select *
from all_values
where value_field not in (
    'age','gender','country'
)


