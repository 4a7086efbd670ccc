"""probe / check_video / probe_many: typed reasons for every bad input, correct facts for good videos."""

from __future__ import annotations

import av
import decord
import pytest

from orion_core.video import errors
from orion_core.video.container import container_signature
from orion_core.video.probe import VideoInfo, check_video, find_videos, probe, probe_many

from .conftest import BAD_CASES, FPS, GOOD_CASES, H, NUM_FRAMES, REAL_VIDEOS, W, cut


@pytest.mark.parametrize("name,reason", BAD_CASES)
def test_bad_input_reported_with_reason(media, name, reason):
    info = probe(media[name])
    assert (info.ok, info.error) == (False, reason), info.detail
    assert info.to_json() == {"path": str(media[name]), "ok": False, "error": reason}
    assert info.frames is None and info.detail


@pytest.mark.parametrize("name,reason", BAD_CASES)
def test_check_video_raises_typed_error(media, name, reason):
    with pytest.raises(errors.VideoError) as caught:
        check_video(media[name])
    assert type(caught.value) is errors.ERRORS_BY_REASON[reason]
    assert caught.value.reason == reason and caught.value.path == str(media[name])
    assert str(media[name]) in str(caught.value)


@pytest.mark.parametrize("name", GOOD_CASES)
def test_good_synthetic_videos(media, name):
    info = check_video(media[name])
    frames = 60 if name == "one_key_mp4" else 30 if name == "cv2_mp4" else NUM_FRAMES
    assert (info.ok, info.error, info.frames, info.width, info.height) == (True, None, frames, W, H)
    assert info.fps == pytest.approx(FPS) and info.duration_s == pytest.approx(frames / FPS)
    assert set(info.to_json()) == {"path", "ok", "frames", "fps", "duration_s", "width", "height", "codec"}
    # deep: every frame decodes, and the count probe reports is what a full decode yields
    with av.open(str(media[name])) as c:
        decoded = sum(1 for _ in c.decode(video=0))
    assert probe(media[name], deep=True).frames == decoded == frames


def test_probe_many_mixes_good_and_bad_in_order(media):
    names = ["good_mp4", "text", "good_mkv", "truncated_mp4", "audio_mkv", "empty", "image_png", "undecodable",
             "missing", "cv2_mp4"]
    infos = probe_many([media[n] for n in names], progress=True)
    assert [i.path for i in infos] == [str(media[n]) for n in names]
    assert [i.error for i in infos] == [None, "not a video", None, "truncated", "no video stream", "empty file",
                                        None, "undecodable", "missing file", None]
    assert all(isinstance(i, VideoInfo) for i in infos)
    assert infos[0].frames == infos[2].frames == NUM_FRAMES


@pytest.mark.parametrize("name", ["good_fast_mp4", "good_mkv", "with_audio_mkv", "good_avi"])
@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.6, 0.9])
def test_truncation_caught_at_any_cut(media, tmp_path, name, fraction):
    path = cut(media[name], tmp_path / f"cut{media[name].suffix}", fraction)
    assert probe(path).error == "truncated"


def test_images_are_single_frame_videos(media):
    for name, codec in [("image_png", "png"), ("image_jpg", "jpeg")]:
        info = check_video(media[name])
        facts = (info.frames, info.fps, info.duration_s, info.width, info.height, info.codec)
        assert facts == (1, None, 0.0, 50, 30, codec)
        assert info.is_image


def test_directory_is_not_a_video(tmp_path):
    assert probe(tmp_path).error == "not a video"


def test_container_signature():
    assert container_signature(b"\x00\x00\x00\x20ftypisom") == "mp4/mov"
    assert container_signature(b"\x1a\x45\xdf\xa3\x01") == "matroska/webm"
    assert container_signature(b"RIFF\x00\x00\x00\x00AVI LIST") == "avi"
    assert container_signature(b"RIFF\x00\x00\x00\x00WAVEfmt ") is None
    assert container_signature(b"hello world, not a video") is None


def test_find_videos_sorted_by_extension(tmp_path):
    for rel in ["b/z.mp4", "a.MKV", "b/a.avi", "notes.txt", "img.png"]:
        (tmp_path / rel).parent.mkdir(exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    assert find_videos(tmp_path) == [str(tmp_path / r) for r in ["a.MKV", "b/a.avi", "b/z.mp4"]]


@pytest.mark.parametrize("path", REAL_VIDEOS, ids=lambda p: p.name)
def test_real_videos_match_pyav_and_decord_metadata(path):
    info = check_video(path)
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        ctx = s.codec_context
        expected = (s.frames, float(s.average_rate), ctx.width, ctx.height, ctx.name)
    assert (info.frames, info.fps, info.width, info.height, info.codec) == expected
    assert info.duration_s == pytest.approx(info.frames / info.fps)
    reader = decord.VideoReader(str(path))
    assert len(reader) == info.frames and reader.get_avg_fps() == pytest.approx(info.fps)
    assert reader[0].shape == (info.height, info.width, 3)
