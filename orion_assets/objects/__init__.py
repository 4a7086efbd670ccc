"""Object assets: keyframe_tags -> object_masks, per shard (detect-segment-track)."""
