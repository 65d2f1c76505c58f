
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select account_id
from "build2"."staging"."stg_instagram__account_daily"
where account_id is null



  
  
      
    ) dbt_internal_test