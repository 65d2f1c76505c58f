-- Every window the pipeline landed, per channel, stream and account: the days
-- each account was pulled for, including pulls that returned no rows (the API
-- reported nothing those days). Snapshot streams' windows are their pull day.
{% call stage(source('pipeline', 'landed_windows')) -%}
    channel,
    stream,
    account_id,
    window_start,
    window_end,
    is_snapshot,
    rows,
    synced_at
{%- endcall %}
