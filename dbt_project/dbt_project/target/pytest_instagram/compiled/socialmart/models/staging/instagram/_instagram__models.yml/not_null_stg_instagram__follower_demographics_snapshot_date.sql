
    
    



select snapshot_date
from "build2"."staging"."stg_instagram__follower_demographics"
where snapshot_date is null


