
select account_id, date_day, count(*) as n_rows
from "build2"."staging"."stg_instagram__account_daily"
group by account_id, date_day
having count(*) > 1
