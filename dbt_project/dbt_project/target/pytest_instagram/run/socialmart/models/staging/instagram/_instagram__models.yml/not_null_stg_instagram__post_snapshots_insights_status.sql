
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select insights_status
from "build2"."staging"."stg_instagram__post_snapshots"
where insights_status is null



  
  
      
    ) dbt_internal_test