
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
select account_id, date_day, count(*) as n_rows
from "build2"."staging"."stg_instagram__account_daily"
group by account_id, date_day
having count(*) > 1

  
  
      
    ) dbt_internal_test