"""Data assets: raw_videos -> video_manifest (per shard) -> filtered_dataset."""
