-- Every organic channel's daily account measures in one contract (union account_daily).
{{ union_channels('account_daily') }}
