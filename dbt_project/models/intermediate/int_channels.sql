-- Every channel of the marts, as its connector class declares it
-- (var('channels'), passed by the orchestration from the connector registry:
-- connectors/base.py says what each attribute means).
select *
from (
    values
    {%- for name, c in registry('channels').items() %}
    (
        {{ sql_literal(name) }}, {{ sql_literal(c.platform) }}, {{ sql_literal(c.channel_name) }},
        {{ sql_literal(c.kind) }}, {{ sql_literal(c.day_timezone) }}, {{ sql_literal(c.paid_channel) }},
        {{ sql_literal(c.engagements_basis) }}
    ){{ "," if not loop.last }}
    {%- endfor %}
) as registry (channel, platform, channel_name, kind, day_timezone, paid_channel, engagements_basis)
