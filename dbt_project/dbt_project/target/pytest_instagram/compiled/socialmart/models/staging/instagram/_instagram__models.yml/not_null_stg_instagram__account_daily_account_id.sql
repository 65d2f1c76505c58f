
    
    



select account_id
from "build2"."staging"."stg_instagram__account_daily"
where account_id is null


