
    
    



select followers
from "build2"."staging"."stg_instagram__follower_demographics"
where followers is null


