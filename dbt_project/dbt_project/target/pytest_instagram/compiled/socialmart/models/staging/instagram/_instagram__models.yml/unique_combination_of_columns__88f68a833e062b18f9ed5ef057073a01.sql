
select snapshot_date, post_id, count(*) as n_rows
from "build2"."staging"."stg_instagram__post_snapshots"
group by snapshot_date, post_id
having count(*) > 1
