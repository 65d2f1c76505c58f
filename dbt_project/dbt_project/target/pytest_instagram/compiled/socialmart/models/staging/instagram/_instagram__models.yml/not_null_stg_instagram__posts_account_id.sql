
    
    



select account_id
from "build2"."staging"."stg_instagram__posts"
where account_id is null


