
    
    

with all_values as (

    select
        content_type as value_field,
        count(*) as n_records

    from "build2"."staging"."stg_instagram__posts"
    group by content_type

)

select *
from all_values
where value_field not in (
    'video','short_video','image','carousel','story','text','link','article','live'
)


