"""Fixtures of the filter tests: OpenCV-drawn frames and tiny mp4 videos (no dependency on the world generator)."""

from __future__ import annotations

import os
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

os.environ.setdefault("NLTK_DATA", str(Path(__file__).resolve().parents[4] / ".orion" / "nltk_data"))

RGB = {"red": (230, 25, 25), "green": (25, 190, 40), "blue": (30, 60, 230), "yellow": (235, 215, 20),
       "purple": (175, 30, 215)}
H, W = 96, 128


def draw_frames(colours: list[str], *, k: int = 4, seed: int = 0) -> np.ndarray:
    """(k, 96, 128, 3) uint8: a grey, lightly textured backdrop with one filled shape per colour, moving right."""
    rng = np.random.default_rng(seed)
    base = np.clip(np.array([150, 145, 135]) + rng.normal(0, 3, (H, W, 3)), 0, 255).astype(np.uint8)
    frames = []
    for t in range(k):
        img = base.copy()
        for i, colour in enumerate(colours):
            cx, cy = 20 + 30 * i + 3 * t, 30 + 20 * (i % 2)
            if i % 2 == 0:
                cv2.circle(img, (cx, cy), 12, RGB[colour], -1)
            else:
                cv2.rectangle(img, (cx - 10, cy - 10), (cx + 10, cy + 10), RGB[colour], -1)
        frames.append(img)
    return np.stack(frames)


def degrade(frames: np.ndarray) -> np.ndarray:
    """Dark (x0.3) and blurred (Gaussian sigma 2): the low-quality look the quality filter must catch."""
    return np.stack([(cv2.GaussianBlur(f, (7, 7), 2.0) * 0.3).astype(np.uint8) for f in frames])


def write_mp4(path: Path, frames: np.ndarray, fps: int = 8) -> Path:
    """Encode (T, H, W, 3) uint8 RGB frames as H.264 mp4 with PyAV."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        stream.options = {"crf": "18"}
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path


def sample(video: str, caption: str) -> dict:
    return {"id": Path(video).stem, "video": video, "conversations": [
        {"from": "human", "value": "<video>\nDescribe the video."}, {"from": "gpt", "value": caption}]}


def row(video_id: str, path: Path, *, caption: str | None, ok: bool = True, error: str | None = None) -> dict:
    rel = path.name
    return {"video_id": video_id, "path": str(path), "relpath": rel, "shard": "000", "ok": ok, "error": error,
            "frames": 16, "fps": 8.0, "duration_s": 2.0, "width": W, "height": H, "codec": "h264",
            "sample": sample(rel, caption) if caption is not None else None}


@pytest.fixture
def tiny_manifest(tmp_path: Path) -> list[dict]:
    """Seven manifest rows covering every removal reason once plus two clean, well-captioned videos."""
    clean = draw_frames(["red", "blue"], k=16)
    other = draw_frames(["green", "yellow"], k=16, seed=1)
    rows = [
        row("clean_a", write_mp4(tmp_path / "clean_a.mp4", clean), caption="a red ball and a blue box move right"),
        row("clean_b", write_mp4(tmp_path / "clean_b.mp4", other), caption="a green ball passes a yellow box"),
        row("dark", write_mp4(tmp_path / "dark.mp4", degrade(clean)), caption="a red ball and a blue box"),
        row("mismatch", write_mp4(tmp_path / "mismatch.mp4", other), caption="a red ball and a blue box"),
        row("unannotated", write_mp4(tmp_path / "unannotated.mp4", clean), caption=None),
        row("bad_probe", tmp_path / "bad_probe.mp4", caption="a red ball", ok=False, error="empty file"),
    ]
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x13" * 500)  # probed ok by mistake, fails to decode
    rows.append(row("garbage", garbage, caption="a purple star"))
    (tmp_path / "bad_probe.mp4").write_bytes(b"")
    return rows
