
    
    



select date_day
from "build2"."staging"."stg_instagram__account_daily"
where date_day is null


