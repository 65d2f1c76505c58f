-- Every ad campaign with the utm_campaign that joins it to web analytics.
select * from {{ ref('int_ads__campaigns') }}
