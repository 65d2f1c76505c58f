
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
select snapshot_date, post_id, count(*) as n_rows
from "build2"."staging"."stg_instagram__post_snapshots"
group by snapshot_date, post_id
having count(*) > 1

  
  
      
    ) dbt_internal_test