-- One row per ad, with the UTM tags of its url_tags.
{{ ads_with_utm_tags(source('raw_meta_ads', 'ads'), url_column='url_tags') }}
