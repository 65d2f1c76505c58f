
  
  create view "build2"."staging"."stg_instagram__post_snapshots__dbt_tmp" as (
    -- Lifetime counters of each media item as of snapshot_date. Media with too
-- few viewers (insights_status = 'not_enough_viewers') keep their row with
-- null counters; clicks and impressions are not served: null.
with source as (
    select * from "build2"."raw_instagram"."media_insights"
),

renamed as (
    select
        snapshot_date,
        media_id as post_id,
        account_id,
        insights_status,
        cast(null as bigint) as impressions,
        views,
        reach,
        likes,
        comments,
        shares,
        saved as saves,
        replies,
        cast(null as bigint) as clicks,
        total_interactions as engagements,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by snapshot_date, post_id order by _synced_at desc) = 1
)

select * from final
  );
