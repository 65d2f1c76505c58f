-- A brand family's accounts and their roles, as configured (families.<name>.accounts).
{% call stage(source('families', 'family_accounts')) -%}
    family,
    channel,
    account_id,
    role
{%- endcall %}
