
    
    



select published_at
from "build2"."staging"."stg_instagram__posts"
where published_at is null


