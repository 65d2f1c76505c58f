-- Every organic channel's posts in one contract and one content taxonomy (union posts).
{{ union_channels('posts') }}
