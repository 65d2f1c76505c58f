
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
select post_id, count(*) as n_rows
from "build2"."staging"."stg_instagram__posts"
group by post_id
having count(*) > 1

  
  
      
    ) dbt_internal_test