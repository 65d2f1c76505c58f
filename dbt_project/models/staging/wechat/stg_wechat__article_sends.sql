-- One row per mass-message article and the Beijing day it was sent
-- (getarticletotal: ref_date is the send date, unlike getarticlesummary's
-- read date). The latest pull wins.
with source as (
    select * from {{ source('raw_wechat', 'article_total') }}
),

renamed as (
    select
        ref_date as sent_date,
        account_id,
        msgid as post_id,
        title,
        target_user as recipients,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by account_id, post_id order by _synced_at desc) = 1
)

select * from final
