"""A folder of frame images is a video to orion_core.video: probe, read_frames, sample_frames.

Good folders are the real JPEG frame folders of the referring fixtures (tests/fixtures/referring/, one scene: a red
12x12 square moving 3 px right per frame from x=4, so frame t's square starts at column 4 + 3t); bad folders are
tmp copies of one with a frame broken, missing or of another size. Expected pixels are the image files decoded
directly with Pillow, in a file order written out here (not taken from the code under test).
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import numpy as np
import PIL.Image
import pytest
from PIL import Image

from orion_core.video import errors
from orion_core.video.decode import DecodeStats, read_all_frames, read_frames
from orion_core.video.folder import frame_files
from orion_core.video.probe import VideoInfo, check_video, probe
from orion_core.video.sampling import load_visual, sample_frames, uniform_indices

REFERRING = Path(__file__).resolve().parents[2] / "fixtures" / "referring"
# folder -> its frame files in frame order, written out (zero-padded names: plain name order)
FOLDERS = {
    "lasot": (REFERRING / "lasot" / "cat" / "cat-1" / "img", [f"{i:08d}.jpg" for i in range(1, 5)]),
    "vid_sentence": (REFERRING / "vid_sentence" / "Data" / "VID" / "train" / "ILSVRC2015_train_00000000",
                     [f"{i:06d}.JPEG" for i in range(6)]),
    "videoref45k": (REFERRING / "videoref45k" / "frames" / "clip_a", [f"{i:05d}.jpg" for i in range(1, 7)]),
}
W, H = 64, 48


def direct(folder: Path, names: list[str]) -> np.ndarray:
    """Every image decoded directly with Pillow: (T, H, W, 3) uint8."""
    return np.stack([np.asarray(Image.open(folder / n).convert("RGB")) for n in names])


def square_x(image: np.ndarray) -> int:
    """First column of the red square in an (H, W, 3) frame (JPEG blurs edges by a pixel at most)."""
    red = (image[..., 0] > 150) & (image[..., 1] < 110) & (image[..., 2] < 110)
    return int(np.nonzero(red.any(axis=0))[0].min())


@pytest.fixture
def clip(tmp_path) -> Path:
    """A writable copy of a 6-frame fixture folder (00001.jpg .. 00006.jpg) plus a non-image file."""
    folder = tmp_path / "clip"
    shutil.copytree(FOLDERS["videoref45k"][0], folder)
    (folder / "notes.txt").write_text("not a frame")
    return folder


def jpeg(path: Path, width: int, height: int) -> Path:
    Image.fromarray(np.full((height, width, 3), 128, np.uint8)).save(path, quality=90)
    return path


@pytest.fixture
def opened(monkeypatch) -> list[str]:
    """Every file Pillow opens (header reads and decodes alike), in order."""
    paths: list[str] = []
    real_open = PIL.Image.open

    def spy(fp, *args, **kwargs):
        paths.append(os.path.basename(os.fspath(fp)))
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(PIL.Image, "open", spy)
    return paths


# ---- good folders --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FOLDERS))
def test_probe_counts_the_images(name):
    folder, names = FOLDERS[name]
    assert len([n for n in os.listdir(folder) if n.lower().endswith((".jpg", ".jpeg"))]) == len(names)
    with Image.open(folder / names[0]) as first:
        assert first.size == (W, H)
    for info in (check_video(folder), check_video(folder, decode=False), check_video(folder, deep=True),
                 probe(folder)):
        assert (info.ok, info.error, info.frames, info.width, info.height) == (True, None, len(names), W, H)
        assert (info.fps, info.duration_s, info.codec) == (None, None, "jpeg-folder")
        assert info.is_folder and not info.is_image and info.path == str(folder)
    assert probe(folder).to_json() == {"path": str(folder), "ok": True, "frames": len(names), "fps": None,
                                       "duration_s": None, "width": W, "height": H, "codec": "jpeg-folder"}
    assert frame_files(folder) == names


def test_fps_argument_gives_rate_duration_and_timestamps():
    folder, names = FOLDERS["vid_sentence"]
    info = check_video(folder, fps=25)
    assert (info.fps, info.duration_s) == (25.0, round(len(names) / 25, 6))
    assert probe(folder, fps=2.0).duration_s == 3.0
    frames = sample_frames(folder, {"t": 3}, info=info)["t"]
    assert frames.timestamps_s == [round(i / 25, 6) for i in frames.indices]
    assert all(math.isnan(t) for t in sample_frames(folder, {"t": 3})["t"].timestamps_s)  # no rate: NaN
    for bad in (0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="fps"):
            check_video(folder, fps=bad)


@pytest.mark.parametrize("name", sorted(FOLDERS))
def test_frames_equal_the_images_decoded_directly(name):
    folder, names = FOLDERS[name]
    expected = direct(folder, names)
    stats = DecodeStats()
    frames = read_frames(folder, range(len(names)), stats=stats)
    assert frames.dtype == np.uint8 and frames.shape == (len(names), H, W, 3)
    np.testing.assert_array_equal(frames, expected)
    assert [square_x(f) for f in frames] == pytest.approx([4 + 3 * t for t in range(len(names))], abs=1)
    assert (stats.decoder, stats.passes, stats.frames_read, stats.fallback) == ("folder", 1, len(names), None)
    np.testing.assert_array_equal(read_all_frames(folder), expected)
    visual = load_visual(folder)
    assert visual.indices == list(range(len(names)))
    np.testing.assert_array_equal(visual.images, expected)


def test_order_and_repeats_follow_the_request():
    folder, names = FOLDERS["videoref45k"]
    expected = direct(folder, names)
    indices = [3, 0, 3, 5, 1, 1]
    stats = DecodeStats()
    frames = read_frames(folder, indices, stats=stats)
    assert frames.shape == (len(indices), H, W, 3)
    np.testing.assert_array_equal(frames, expected[indices])
    assert [square_x(f) for f in frames] == pytest.approx([4 + 3 * i for i in indices], abs=1)
    assert stats.frames_read == 4  # each distinct frame decoded once
    assert read_frames(folder, []).shape == (0, H, W, 3)
    with pytest.raises(IndexError):
        read_frames(folder, [0, len(names)])
    with pytest.raises(ValueError, match="decoder"):
        read_frames(folder, [0], decoder="opencv")


def test_only_the_requested_files_are_read(opened):
    folder, names = FOLDERS["vid_sentence"]
    info = check_video(folder)
    opened.clear()
    read_frames(folder, [4, 1, 4], info=info)
    assert sorted(opened) == [names[1], names[4]]
    opened.clear()
    read_frames(folder, [4, 1, 4])  # no info: the structural probe reads the first image's header only
    assert sorted(opened) == sorted([names[0], names[1], names[4]])
    opened.clear()
    check_video(folder, decode=False)
    assert opened == [names[0]]


def test_sample_frames_from_a_folder_in_one_pass(opened):
    folder, names = FOLDERS["videoref45k"]
    expected = direct(folder, names)
    info = check_video(folder)
    opened.clear()
    stats = DecodeStats()
    out = sample_frames(folder, {"t_v": 2, "n": 8}, info=info, stats=stats)
    union = sorted(set(uniform_indices(len(names), 2)) | set(uniform_indices(len(names), 8)))
    for sampler, count in (("t_v", 2), ("n", 8)):
        assert out[sampler].indices == uniform_indices(len(names), count)
        assert out[sampler].images.shape == (count, H, W, 3)
        np.testing.assert_array_equal(out[sampler].images, expected[out[sampler].indices])
    assert (stats.decoder, stats.passes, stats.frames_read) == ("folder", 1, len(union))
    assert sorted(opened) == [names[i] for i in union]


def test_natural_name_order_and_other_files(tmp_path):
    folder_in, names = FOLDERS["videoref45k"]
    folder = tmp_path / "natural"
    folder.mkdir()
    # 8.jpg 9.JPG 10.jpg: natural order puts 10 last (plain name order would put it first); .txt / .json are no frames
    for t, new in enumerate(["8.jpg", "9.JPG", "10.jpg"]):
        shutil.copy(folder_in / names[t], folder / new)
    (folder / "groundtruth.txt").write_text("0,0,1,1\n")
    (folder / "meta.json").write_text("{}")
    assert check_video(folder).frames == 3
    frames = read_frames(folder, [2, 1, 0])
    np.testing.assert_array_equal(frames, direct(folder_in, names)[[2, 1, 0]])


def test_evenly_strided_numbering_is_not_a_hole(tmp_path):
    folder_in, names = FOLDERS["videoref45k"]
    folder = tmp_path / "strided"
    folder.mkdir()
    for t, n in enumerate(names[:4]):
        shutil.copy(folder_in / n, folder / f"{5 * t:06d}.jpg")  # 000000, 000005, 000010, 000015
    assert probe(folder).ok and probe(folder).frames == 4


def test_frame_files_has_one_home():
    import orion_core.data.referring as referring
    import orion_core.data.referring.records as records
    import orion_core.video as video
    from orion_core.video import folder

    assert referring.frame_files is records.frame_files is video.frame_files is folder.frame_files
    assert not hasattr(records, "_natural")


def test_referring_records_on_folders_read_the_boxed_frame():
    """A loader's frame index read back through read_frames lands on the pixels its box names."""
    from orion_core.data.referring import load_lasot, load_videoref45k

    checked = 0
    for root, report in ((REFERRING / "lasot", load_lasot(REFERRING / "lasot")),
                         (REFERRING / "videoref45k", load_videoref45k(REFERRING / "videoref45k"))):
        for record in report:
            path = root / record["video"]
            if not path.is_dir() or "box_before_clip" in record:
                continue
            frame = read_frames(path, [record["frame"]])[0]
            assert square_x(frame) == pytest.approx(record["box"][0], abs=1), record["id"]
            checked += 1
    assert checked >= 2


# ---- bad folders ---------------------------------------------------------------------------------------------------


def assert_bad(folder: Path, reason: str, *fragments: str) -> VideoInfo:
    """probe reports ``reason`` (detail naming ``fragments``) and check_video raises the matching typed error."""
    info = probe(folder)
    assert (info.ok, info.error, info.frames) == (False, reason, None), info.detail
    assert info.to_json() == {"path": str(folder), "ok": False, "error": reason}
    for fragment in fragments:
        assert fragment in info.detail, (fragment, info.detail)
    with pytest.raises(errors.VideoError) as caught:
        check_video(folder)
    assert type(caught.value) is errors.ERRORS_BY_REASON[reason] and caught.value.path == str(folder)
    with pytest.raises(errors.ERRORS_BY_REASON[reason]):
        info.raise_error()
    return info


def test_folder_without_images(tmp_path):
    assert_bad(tmp_path / "nothing_here", "missing file")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_bad(empty, "not a video", "empty directory")
    others = tmp_path / "others"
    others.mkdir()
    (others / "groundtruth.txt").write_text("1,2,3,4\n")
    assert_bad(others, "not a video", "no image files")
    with pytest.raises(errors.NotAVideoError):
        read_frames(others, [0])
    with pytest.raises(errors.NotAVideoError):
        sample_frames(empty, {"t": 4})


def test_unreadable_image(clip):
    (clip / "00003.jpg").write_text("this is text, not a jpeg")
    assert_bad(clip, "not a video", "frame 2", "00003.jpg")


def test_truncated_image(clip):
    data = (clip / "00003.jpg").read_bytes()
    (clip / "00003.jpg").write_bytes(data[:-100])  # header intact, entropy-coded data cut
    # The default probe reads every header but decodes only the ends (like a video's probe); deep decodes all.
    assert probe(clip).ok
    info = probe(clip, deep=True)
    assert (info.ok, info.error) == (False, "truncated") and "00003.jpg" in info.detail
    with pytest.raises(errors.TruncatedVideoError, match="frame 2 \\(00003.jpg\\)") as caught:
        read_frames(clip, [0, 2])
    assert caught.value.path == str(clip)
    assert read_frames(clip, [0, 1, 3]).shape == (3, H, W, 3)  # the other frames still read
    # a frame cut inside its header is caught by the default probe
    (clip / "00006.jpg").write_bytes((clip / "00006.jpg").read_bytes()[:300])
    assert_bad(clip, "truncated", "frame 5", "00006.jpg")


def test_empty_image(clip):
    (clip / "00004.jpg").write_bytes(b"")
    assert_bad(clip, "empty file", "frame 3", "00004.jpg", "0 bytes")


def test_missing_image_in_the_numbering(clip):
    (clip / "00003.jpg").unlink()
    assert_bad(clip, "missing file", "00002.jpg", "00004.jpg", "1 frame file(s) missing")
    with pytest.raises(errors.MissingFileError):
        read_frames(clip, [0])
    with pytest.raises(errors.MissingFileError):
        sample_frames(clip, {"t": 2})


def test_dangling_link_and_a_frame_gone_after_the_probe(clip):
    info = check_video(clip)
    (clip / "00003.jpg").unlink()
    (clip / "00003.jpg").symlink_to(clip / "gone.jpg")
    with pytest.raises(errors.MissingFileError, match="frame 2 \\(00003.jpg\\).*dangling link"):
        read_frames(clip, [2], info=info)
    assert read_frames(clip, [0, 1], info=info).shape == (2, H, W, 3)
    assert_bad(clip, "missing file", "frame 2", "dangling link")
    (clip / "00003.jpg").unlink()  # 5 files now: every later frame's index would shift
    with pytest.raises(errors.UndecodableError, match="holds 5 image files but was probed with 6"):
        read_frames(clip, [0], info=info)


def test_odd_sized_image(clip):
    info = check_video(clip)
    jpeg(clip / "00004.jpg", 32, 32)
    assert_bad(clip, "undecodable", "frame 3 (00004.jpg) is 32x32", "frame 0 (00001.jpg) is 64x48")
    with pytest.raises(errors.UndecodableError, match="32x32"):
        read_frames(clip, [3], info=info)  # probed before the swap: the reader checks each frame's size
    assert read_frames(clip, [0, 5], info=info).shape == (2, H, W, 3)


def test_odd_sized_first_image(clip):
    jpeg(clip / "00001.jpg", 64, 64)
    assert_bad(clip, "undecodable", "frame 1 (00002.jpg) is 64x48", "frame 0 (00001.jpg) is 64x64")


def test_two_files_with_one_number(clip):
    shutil.copy(clip / "00002.jpg", clip / "0002.jpg")
    assert_bad(clip, "not a video", "same number 2")
