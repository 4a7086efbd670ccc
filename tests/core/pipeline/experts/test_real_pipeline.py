"""The whole detect-segment-track driver through the four real backends (clip, grounding_dino, sam, sam2).

Tiny random weights, so only the structure is checked: a 128x128 clip goes in, a mask list comes out whose
objects carry prompt labels and decodable masks on the tracked frames.
"""

from __future__ import annotations

import numpy as np
import pytest

from orion_core.config import load_preset
from orion_core.data.synthetic.writer import write_mp4
from orion_core.contracts.masklist import MaskList
from orion_core.pipeline.detect_segment_track import DetectSegmentTrack

VOCABULARY = ["dog", "cat", "ball", "person", "tree", "car", "cup", "chair"]


@pytest.mark.slow  # ~40 s on 2 busy cores: WordNet load, four model loads, SAM2 over the t_o frames
def test_pipeline_runs_on_the_real_backends(tmp_path, clip_dir, grounding_dino_dir, sam_checkpoint, sam2_dir):
    frames = np.zeros((12, 128, 128, 3), np.uint8)  # a red square moving right over grey
    frames[:] = 90
    for t in range(len(frames)):
        frames[t, 40:80, 10 + 4 * t:50 + 4 * t] = (200, 40, 40)
    video = tmp_path / "clip.mp4"
    write_mp4(video, frames, fps=6, crf=18)
    vocabulary = tmp_path / "vocab.txt"
    vocabulary.write_text("\n".join(VOCABULARY) + "\n")
    config = load_preset("tiny-cpu", [
        "video.t_o=6", "pipeline.keyframe_mode=uniform", "pipeline.uniform_keyframes=2", "pipeline.max_objects=8",
        "pipeline.tagger=clip", f"pipeline.tagger_path={clip_dir}", f"pipeline.tag_vocabulary={vocabulary}",
        "pipeline.detector=grounding_dino", f"pipeline.detector_path={grounding_dino_dir}",
        "pipeline.box_threshold=0.0", "pipeline.text_threshold=0.0",  # random weights: keep every query
        "pipeline.segmenter=sam", f"pipeline.segmenter_path={sam_checkpoint}",
        "pipeline.tracker=sam2", f"pipeline.tracker_path={sam2_dir}",
    ])
    tags, masks = DetectSegmentTrack(config).run(str(video), n_frames=4)

    assert len(tags.frame_indices) == 4 and len(tags.key_frames) == 2
    assert all(name in VOCABULARY for frame in tags.tags for name, _ in frame)
    assert isinstance(masks, MaskList) and (masks.height, masks.width) == (128, 128)
    assert masks.meta["experts"] == {"tagger": "clip", "detector": "grounding_dino", "segmenter": "sam",
                                     "tracker": "sam2"}
    # The seeded tiny CLIP tags every frame, and thresholds 0 keep every detection, so objects must come out.
    assert 1 <= len(masks.objects) <= 8
    prompts = {n for nouns in tags.key_nouns for n in nouns}
    for obj in masks.objects:
        assert obj.label in prompts and obj.key_frame in tags.key_frames
        assert set(obj.frames) <= set(masks.frame_indices) | set(tags.key_frames)
        mask = obj.mask(obj.frames[0])
        assert mask.shape == (128, 128) and mask.dtype == bool
