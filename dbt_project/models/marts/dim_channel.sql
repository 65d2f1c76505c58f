select
    channel::varchar as channel,
    platform::varchar as platform,
    channel_name::varchar as channel_name,
    kind::varchar as kind
from {{ ref('channels') }}
