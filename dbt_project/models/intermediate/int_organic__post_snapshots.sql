-- Lifetime post counters as recorded on each snapshot day, every channel
-- (union post_snapshots).
{{ union_channels('post_snapshots') }}
