
    
    



select dimension
from "build2"."staging"."stg_instagram__follower_demographics"
where dimension is null


