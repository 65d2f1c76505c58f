{% call stage(source('raw_fx', 'ecb_rates'), latest_by=['rate_date', 'currency']) -%}
    rate_date,
    upper(currency) as currency,
    rate_per_eur,
    _synced_at
{%- endcall %}
