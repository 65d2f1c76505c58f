
    
    



select insights_status
from "build2"."staging"."stg_instagram__post_snapshots"
where insights_status is null


