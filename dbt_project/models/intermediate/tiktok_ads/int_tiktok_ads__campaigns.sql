-- TikTok campaigns in the paid campaigns contract (union ad_campaigns).
-- TikTok campaigns carry no UTM tags themselves: utm_campaign is the value
-- most of the campaign's ads carry in their landing page URL, null when no ad
-- is tagged (video-view ads have no landing page at all). No schedule is
-- pulled: start_time and stop_time are null.
{{ campaigns_with_ad_utm(ref('stg_tiktok_ads__campaigns'), ref('stg_tiktok_ads__ads'), absent=['start_time', 'stop_time']) }}
