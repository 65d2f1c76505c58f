
    
    



select bucket
from "build2"."staging"."stg_instagram__follower_demographics"
where bucket is null


