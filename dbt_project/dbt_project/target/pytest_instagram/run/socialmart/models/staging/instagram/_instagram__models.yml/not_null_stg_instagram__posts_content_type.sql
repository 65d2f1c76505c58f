
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select content_type
from "build2"."staging"."stg_instagram__posts"
where content_type is null



  
  
      
    ) dbt_internal_test