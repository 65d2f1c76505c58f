-- Every ad platform's campaign-day versions (one per pull that changed a
-- row: landing.py's raw <stream>__versions) in one column contract.
{{ union_channels('ad_campaign_daily_versions') }}
