"""SAM 3 as the one-model option: a tiny random Sam3VideoModel saved to disk, selected by the preset's pipeline."""

from __future__ import annotations

import numpy as np

from orion_core.config import PipelineConfig, load_preset
from orion_core.pipeline import DetectSegmentTrack, TagRecord
from orion_core.pipeline.experts import build_expert
from orion_core.pipeline.experts.sam3_video import Sam3VideoObjects


def test_text_prompts_to_tracked_instances(sam3_dir):
    one = build_expert("one_model", PipelineConfig(one_model="sam3", one_model_path=str(sam3_dir)))
    assert isinstance(one, Sam3VideoObjects)
    frames = np.random.default_rng(0).integers(0, 256, (3, 96, 128, 3), dtype=np.uint8)
    objects = one.segment_video(frames, ["person", "ball", "person"])
    assert objects and {o.label for o in objects} <= {"person", "ball"}
    assert [o.score for o in objects] == sorted((o.score for o in objects), reverse=True)
    for obj in objects:
        assert set(obj.masks) <= {0, 1, 2}
        assert all(m.shape == (96, 128) and m.dtype == bool for m in obj.masks.values())
    assert one.segment_video(frames, []) == []


def test_preset_selects_one_model_instead_of_the_chain(sam3_dir):
    config = load_preset("tiny-cpu", ["pipeline.one_model=sam3", f"pipeline.one_model_path={sam3_dir}",
                                      "video.t_o=3", "pipeline.min_mask_area=1"])
    frames = np.random.default_rng(1).integers(0, 256, (6, 96, 128, 3), dtype=np.uint8)
    tags = TagRecord(video_path="v.mp4", video_digest="0" * 64, num_frames=6, duration_s=0.6,
                     frame_indices=(0, 3), tags=((("ball", 0.9),), (("ball", 0.9),)), nouns=(("ball",), ("ball",)),
                     key_frames=(1,), key_nouns=(("ball",),))
    dst = DetectSegmentTrack(config, device="cpu")
    masks = dst.mask_video("v.mp4", tags, images={i: frames[i] for i in range(6)})
    assert masks.meta["experts"] == {"tagger": "classical", "one_model": "sam3"}
    assert set(dst.devices()) == {"one_model"}  # no detector, segmenter or tracker was built
    assert masks.num_objects >= 1 and set(masks.labels) == {"ball"}
    assert all(o.key_frame >= 1 for o in masks.objects)  # tracked forwards from the first key frame only
