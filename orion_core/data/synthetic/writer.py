"""Write frames as H.264 mp4 with byte-identical output for identical input, and make broken files.

PyAV + libx264 with one thread is deterministic (checked: same frames -> same sha256); threaded x264
splits slices by timing and is not. The mp4 muxer writes no wall-clock creation time unless asked to.
A short GOP keeps seeking cheap: decord re-decodes from the previous key frame on every random access.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

GOP_FRAMES = 16
CORRUPT_KINDS = ("empty", "truncated")


def write_mp4(path: Path, frames: np.ndarray, *, fps: float, crf: int) -> None:
    """Encode ``frames`` (T, H, W, 3) uint8 RGB to ``path`` (H.264, yuv420p, constant ``fps``)."""
    T, H, W, _ = frames.shape
    if H % 2 or W % 2:
        raise ValueError(f"{path}: yuv420p needs even width/height, got {W}x{H}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")  # no media suffix: never mistaken for a video
    with av.open(str(tmp), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.thread_count = 1
        stream.codec_context.gop_size = GOP_FRAMES
        # Byte-stable output needs more than "threads": "1": with decord imported first (its own libav build is
        # then what PyAV's libx264 runs against), 64-px videos came out different from run to run until every
        # thread pool was pinned and macroblock-tree rate control (mbtree) was off - 12 runs in a row came out
        # identical with these settings; without mbtree=0 some differed (tests/core/data/synthetic checks bytes).
        stream.options = {"crf": str(crf), "preset": "medium", "threads": "1",
                          "x264-params": "threads=1:lookahead-threads=1:sliced-threads=0:rc-lookahead=10:"
                                         "sync-lookahead=0:mbtree=0"}
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():  # flush delayed (B-)frames
            container.mux(packet)
    tmp.replace(path)  # a crash mid-write never leaves a plausible-looking partial mp4 behind


def write_corrupt(path: Path, *, kind: str, donor: bytes) -> None:
    """A deliberately broken video: ``empty`` (0 bytes) or ``truncated`` (first 40% of ``donor``).

    Truncation cuts off the trailing ``moov`` atom, so no demuxer can index the frames.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        if len(donor) < 64:
            raise ValueError(f"{path}: the donor mp4 for truncation is too small ({len(donor)} bytes)")
        path.write_bytes(donor[: int(len(donor) * 0.4)])
    else:
        raise ValueError(f"unknown corrupt kind {kind!r}; known: {CORRUPT_KINDS}")
