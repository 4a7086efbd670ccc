"""Detect-segment-track: tag frames, keep concrete nouns, pick key frames, detect, segment, track -> mask lists."""
