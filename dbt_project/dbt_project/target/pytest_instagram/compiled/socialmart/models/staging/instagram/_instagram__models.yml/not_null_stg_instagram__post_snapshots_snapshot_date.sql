
    
    



select snapshot_date
from "build2"."staging"."stg_instagram__post_snapshots"
where snapshot_date is null


