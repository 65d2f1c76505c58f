-- One row per ad, with the UTM tags of its landing page URL (video-view ads
-- have none).
{{ ads_with_utm_tags(source('raw_tiktok_ads', 'ads'), url_column='landing_page_url') }}
