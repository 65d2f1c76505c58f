
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select snapshot_date
from "build2"."staging"."stg_instagram__follower_demographics"
where snapshot_date is null



  
  
      
    ) dbt_internal_test