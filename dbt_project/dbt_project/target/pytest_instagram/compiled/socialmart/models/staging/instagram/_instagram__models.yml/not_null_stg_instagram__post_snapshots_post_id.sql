
    
    



select post_id
from "build2"."staging"."stg_instagram__post_snapshots"
where post_id is null


