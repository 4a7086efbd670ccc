"""Text utilities shared by the dataset filters and the detect-segment-track tagger (WordNet nouns)."""
