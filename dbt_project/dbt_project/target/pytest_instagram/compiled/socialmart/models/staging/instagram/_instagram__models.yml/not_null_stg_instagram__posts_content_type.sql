
    
    



select content_type
from "build2"."staging"."stg_instagram__posts"
where content_type is null


