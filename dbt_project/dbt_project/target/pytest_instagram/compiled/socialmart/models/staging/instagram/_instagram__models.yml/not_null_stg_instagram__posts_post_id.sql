
    
    



select post_id
from "build2"."staging"."stg_instagram__posts"
where post_id is null


