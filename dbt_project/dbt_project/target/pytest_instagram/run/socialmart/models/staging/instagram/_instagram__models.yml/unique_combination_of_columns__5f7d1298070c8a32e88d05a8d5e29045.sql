
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
select snapshot_date, account_id, dimension, bucket, count(*) as n_rows
from "build2"."staging"."stg_instagram__follower_demographics"
group by snapshot_date, account_id, dimension, bucket
having count(*) > 1

  
  
      
    ) dbt_internal_test