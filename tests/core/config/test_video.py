"""VideoConfig: the t_o rule (128 over a minute) and the tagged-frames rule (64 for instruction data)."""

from orion_core.config import load_preset


def test_t_o_rule():
    video = load_preset("videoorion-7b").video
    assert video.t_o_for(30.0) == 64 and video.t_o_for(61.0) == 128


def test_tagged_frames_rule():
    video = load_preset("videoorion-7b").video
    assert video.tagged_frames("instruct") == 64
    assert video.tagged_frames("pretrain") == video.tagged_frames("anything else") == 16
