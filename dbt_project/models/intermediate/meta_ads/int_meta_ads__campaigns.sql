-- Meta campaigns in the paid campaigns contract (union ad_campaigns), with
-- the utm_campaign read from their ads' url_tags.
{{ campaigns_with_ad_utm(ref('stg_meta_ads__campaigns'), ref('stg_meta_ads__ads')) }}
