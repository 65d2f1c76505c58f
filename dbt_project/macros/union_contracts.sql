{#- The column contracts of the unions (docs/adding-a-channel.md, "Staging
    column contracts"): union -> column -> type, in the union's column order.
    The one place a contract is written: the union models cast to it
    (union_channels) and the channels' models select it (contract_columns). -#}
{% macro union_contract(union) -%}
{%- set string = dbt.type_string() -%}
{%- set instant = type_timestamptz() -%}
{%- set contracts = {
    'ad_accounts': {
        'account_id': string, 'account_name': string, 'account_currency': string, 'account_timezone': string},
    'ad_campaigns': {
        'account_id': string, 'campaign_id': string, 'campaign_name': string, 'objective': string, 'status': string,
        'start_time': instant, 'stop_time': instant, 'utm_campaign': string},
    'ad_campaign_daily': {
        'date_day': 'date', 'account_id': string, 'campaign_id': string, 'campaign_name': string,
        'spend_local': 'decimal(18, 6)', 'impressions': 'bigint', 'reach': 'bigint', 'clicks': 'bigint',
        'link_clicks': 'bigint', 'conversions': 'decimal(18, 2)', 'conversion_value_local': 'decimal(18, 6)'},
    'ad_campaign_daily_versions': {
        'date_day': 'date', 'account_id': string, 'campaign_id': string, 'spend_local': 'decimal(18, 6)',
        'conversions': 'decimal(18, 2)', 'conversion_value_local': 'decimal(18, 6)', '_synced_at': instant},
    'web_properties': {
        'account_id': string, 'account_name': string, 'currency': string, 'timezone': string},
    'account_daily': {
        'date_day': 'date', 'account_id': string, 'followers': 'bigint', 'followers_gained': 'bigint',
        'followers_lost': 'bigint', 'impressions': 'bigint', 'views': 'bigint', 'reach': 'bigint',
        'engagements': 'bigint', 'negative_feedback': 'bigint'},
    'posts': {
        'post_id': string, 'account_id': string, 'published_at': instant, 'content_type': string,
        'platform_content_type': string, 'text': string, 'permalink': string,
        'original_post_id': string, 'original_account_id': string, 'is_repost': 'boolean'},
    'post_snapshots': {
        'snapshot_date': 'date', 'post_id': string, 'account_id': string, 'impressions': 'bigint',
        'views': 'bigint', 'reach': 'bigint', 'likes': 'bigint', 'comments': 'bigint', 'shares': 'bigint',
        'saves': 'bigint', 'clicks': 'bigint', 'engagements': 'bigint'},
    'post_daily': {
        'date_day': 'date', 'post_id': string, 'account_id': string, 'impressions': 'bigint', 'views': 'bigint',
        'reach': 'bigint', 'likes': 'bigint', 'comments': 'bigint', 'shares': 'bigint', 'saves': 'bigint',
        'clicks': 'bigint', 'engagements': 'bigint'},
    'follower_demographics': {
        'snapshot_date': 'date', 'account_id': string, 'dimension': string, 'bucket': string, 'followers': 'bigint'},
} -%}
{%- if union not in contracts -%}
{{ exceptions.raise_compiler_error("no union '" ~ union ~ "': the unions are " ~ (contracts.keys() | join(', '))) }}
{%- endif -%}
{{ return(contracts[union]) }}
{%- endmacro %}

{#- A channel's model feeding `union`: the contract's columns in its order,
    each as `columns` maps it (contract column -> SQL expression over the
    channel's columns), or a null of the contract's type where the API does not
    have the measure (missing is null, never zero). The expressions keep their
    own types; the union casts. -#}
{% macro contract_columns(union, columns) -%}
{%- set contract = union_contract(union) -%}
{%- for name in columns if name not in contract -%}
{{ exceptions.raise_compiler_error("'" ~ name ~ "' is not a column of the " ~ union ~ " contract: " ~ (contract.keys() | join(', '))) }}
{%- endfor -%}
{#- indented as a select list of the CTE style, for the compiled SQL's reader -#}
{%- for name, type in contract.items() %}
{%- set expression = columns.get(name) %}
        {% if expression is none -%}
        cast(null as {{ type }}) as {{ name }}
        {%- elif expression == name -%}
        {{ name }}
        {%- else -%}
        {{ expression }} as {{ name }}
        {%- endif %}{{ "," if not loop.last }}
{%- endfor %}
{%- endmacro %}
