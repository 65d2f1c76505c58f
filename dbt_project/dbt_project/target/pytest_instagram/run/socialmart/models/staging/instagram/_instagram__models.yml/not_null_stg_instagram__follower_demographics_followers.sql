
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select followers
from "build2"."staging"."stg_instagram__follower_demographics"
where followers is null



  
  
      
    ) dbt_internal_test