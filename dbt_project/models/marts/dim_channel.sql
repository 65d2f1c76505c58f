select
    channel::varchar as channel,
    platform::varchar as platform,
    channel_name::varchar as channel_name,
    kind::varchar as kind,
    day_timezone::varchar as day_timezone,
    paid_channel::varchar as paid_channel
from {{ ref('channels') }}
