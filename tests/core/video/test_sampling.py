"""uniform_indices, sample_frames and load_visual: the right frames, from one decode, for videos and images."""

from __future__ import annotations

import math

import numpy as np
import pytest

from orion_core.video import errors
from orion_core.video.decode import DecodeStats, read_all_frames
from orion_core.video.probe import check_video
from orion_core.video.sampling import Frames, load_visual, sample_frames, uniform_indices

from .conftest import BAD_CASES, FPS, REAL_VIDEOS, decoded_index


# --- uniform_indices ----------------------------------------------------------------------------------

def test_uniform_indices_match_videollama2_values():
    # VideoLLaMA2 frame_sample: seg=(T-1)/K, round(centre + 1e-6); values computed by hand from that formula.
    assert uniform_indices(132, 8) == [8, 25, 41, 57, 74, 90, 106, 123]
    assert uniform_indices(10, 4) == [1, 3, 6, 8]
    assert uniform_indices(9, 2) == [2, 6]  # centres 2.0 and 6.0
    assert uniform_indices(5, 2) == [1, 3]  # centre 1.0 and 3.0
    assert uniform_indices(4, 2) == [1, 2]  # exact .5 centres (0.75 -> 1, 2.25 -> 2)


def test_uniform_indices_properties():
    for num_frames in range(1, 130):
        for count in (1, 2, 3, 7, 8, 16, 64, 128):
            idx = uniform_indices(num_frames, count)
            assert len(idx) == count
            assert all(0 <= i < num_frames for i in idx)
            assert idx == sorted(idx)
            if num_frames >= count:
                assert len(set(idx)) == count  # no frame twice when there are enough frames
            else:
                assert len(set(idx)) <= num_frames  # short video: indices repeat, length still count
            # symmetric about the middle of the clip (segment centres)
            assert abs((idx[0] - 0) - (num_frames - 1 - idx[-1])) <= 1


def test_uniform_indices_single_frame_and_errors():
    assert uniform_indices(1, 5) == [0] * 5
    with pytest.raises(ValueError):
        uniform_indices(0, 3)
    with pytest.raises(ValueError):
        uniform_indices(10, 0)


# --- sample_frames on synthetic clips (frame content encodes its index) ------------------------------

@pytest.mark.parametrize("name", ["good_mp4", "good_mkv", "good_avi", "with_audio_mkv", "one_key_mp4", "cv2_mp4"])
@pytest.mark.parametrize("decoder", ["auto", "decord", "pyav"])
def test_sample_frames_returns_the_indexed_frames(media, name, decoder):
    info = check_video(media[name])
    stats = DecodeStats()
    out = sample_frames(media[name], {"t_v": 8, "t_o": 32, "n": 16}, decoder=decoder, stats=stats)
    assert set(out) == {"t_v", "t_o", "n"}
    for key, count in [("t_v", 8), ("t_o", 32), ("n", 16)]:
        frames = out[key]
        assert isinstance(frames, Frames) and len(frames) == count
        assert frames.indices == uniform_indices(info.frames, count)
        assert frames.images.shape == (count, info.height, info.width, 3) and frames.images.dtype == np.uint8
        assert [decoded_index(im) for im in frames.images] == frames.indices
        assert frames.timestamps_s == pytest.approx([i / FPS for i in frames.indices])
    union = {i for f in out.values() for i in f.indices}
    assert stats.passes == 1 and stats.frames_read == len(union)
    # auto: decord for a sample, PyAV when the samplers together want every frame (a whole-file read)
    whole_file = len(union) == info.frames
    assert stats.decoder == {"pyav": "pyav", "decord": "decord", "auto": "pyav" if whole_file else "decord"}[decoder]


def test_short_video_repeats_frames(media):
    out = sample_frames(media["short_mp4"], {"t_v": 8})["t_v"]
    assert out.indices == uniform_indices(5, 8) and len(out.indices) == 8
    assert [decoded_index(im) for im in out.images] == out.indices


@pytest.mark.parametrize("name,reason", [c for c in BAD_CASES if c[0] != "undecodable"])
def test_sample_frames_raises_typed_errors(media, name, reason):
    with pytest.raises(errors.ERRORS_BY_REASON[reason]):
        sample_frames(media[name], {"t_v": 8})


def test_undecodable_raises_typed_error_from_every_decoder(media):
    for decoder in ("auto", "decord", "pyav"):
        with pytest.raises(errors.UndecodableError):
            sample_frames(media["undecodable"], {"t_v": 8}, decoder=decoder)


# --- images are single-frame videos -------------------------------------------------------------------

def test_sample_frames_on_image_repeats_the_frame(media):
    from PIL import Image

    pixels = np.asarray(Image.open(media["image_png"]).convert("RGB"))
    out = sample_frames(media["image_png"], {"t_v": 8, "t_o": 3})
    for key, count in [("t_v", 8), ("t_o", 3)]:
        assert out[key].indices == [0] * count and out[key].timestamps_s == [0.0] * count
        assert out[key].images.shape == (count, 30, 50, 3)
        assert all(np.array_equal(im, pixels) for im in out[key].images)


def test_load_visual(media):
    image = load_visual(media["image_jpg"])
    assert image.indices == [0] and image.images.shape == (1, 30, 50, 3)
    assert load_visual(media["image_jpg"], count=4).images.shape == (4, 30, 50, 3)
    video = load_visual(media["good_mkv"])
    assert video.indices == list(range(40)) and [decoded_index(im) for im in video.images] == video.indices
    assert load_visual(media["good_mkv"], count=8).indices == uniform_indices(40, 8)


# --- real videos: sampled frames == the same frames of a full sequential decode -----------------------

@pytest.mark.parametrize("path", [p for p in REAL_VIDEOS if p.name != "bigbuckbunny.mp4"], ids=lambda p: p.name)
def test_real_video_samples_equal_full_sequential_decode(path):
    full = read_all_frames(path, decoder="pyav")  # (T, H, W, 3): an independent decoder, every frame in order
    out = sample_frames(path, {"t_v": 8, "t_o": 64, "n": 16})  # default: decord, sorted per-frame reads
    assert full.shape[0] == check_video(path).frames
    for frames in out.values():
        # decord and PyAV bundle different libav builds, yet decode and convert these files identically
        np.testing.assert_array_equal(frames.images, full[frames.indices])


def test_real_hd_video_decord_and_pyav_agree():
    path = next(p for p in REAL_VIDEOS if p.name == "bigbuckbunny.mp4")  # 720p: compare samples, not all frames
    a = sample_frames(path, {"t_v": 8}, decoder="decord")["t_v"]
    b = sample_frames(path, {"t_v": 8}, decoder="pyav")["t_v"]
    assert a.indices == b.indices == uniform_indices(132, 8)
    np.testing.assert_array_equal(a.images, b.images)
    assert a.timestamps_s == pytest.approx([i / 25.0 for i in a.indices])
    assert not math.isnan(a.timestamps_s[0])
