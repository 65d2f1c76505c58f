
select post_id, count(*) as n_rows
from "build2"."staging"."stg_instagram__posts"
group by post_id
having count(*) > 1
