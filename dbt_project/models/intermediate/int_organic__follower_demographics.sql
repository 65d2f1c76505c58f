-- Follower breakdowns, every channel that has them (union
-- follower_demographics). Buckets are the platform's own (LinkedIn adds
-- function, seniority and industry to age, gender and country, and its
-- country buckets are geo URNs).
{{ union_channels('follower_demographics') }}
