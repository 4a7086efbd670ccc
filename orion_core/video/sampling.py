"""Uniform frame sampling for every consumer of a video, served from ONE decode.

VideoOrion reads the same video for several purposes (PAPER.md): ``t_v`` frames for the video branch,
``t_o`` frames for tracking objects, ``n`` frames for tagging key frames. Each is a uniform sample, and
decoding the file once per purpose would triple the dominant cost of the data pipeline. ``sample_frames``
takes all samplers at once, decodes the union of their indices in one ascending pass
(:func:`orion_core.video.decode.read_frames`) and hands each sampler its frames.

Images are single-frame videos: every sampler of an image gets that frame repeated ``count`` times
(``uniform_indices(1, count) == [0] * count``), so batch shapes never depend on the media type. A folder of
frame images is a video whose frame i is its i-th image file (:mod:`.folder`); only the sampled files are read.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

from .decode import DecodeStats, read_frames
from .probe import VideoInfo, check_video

if TYPE_CHECKING:
    from orion_core.config import VideoConfig


def uniform_indices(num_frames: int, count: int) -> list[int]:
    """Centres of ``count`` equal segments of ``[0, num_frames - 1]`` (VideoLLaMA2's ``frame_sample``).

    ``seg = (num_frames - 1) / count``; index ``i`` is ``round(seg * (i + 0.5))``. The result always has
    ``count`` entries, ascending, within ``[0, num_frames)``; they are distinct when
    ``num_frames >= count`` and repeat when the video is shorter than the sample.
    """
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    seg = (num_frames - 1) / count
    centres = seg * (np.arange(count) + 0.5)
    # +1e-6 as in VideoLLaMA2: exact .5 centres round up instead of to the even neighbour.
    return np.round(centres + 1e-6).astype(int).tolist()


def object_frame_indices(num_frames: int, duration_s: float, video: "VideoConfig") -> list[int]:
    """The object branch's frames of a video: ``t_o`` uniform frames (``t_o_long`` over a minute), distinct, ascending.

    The one rule for "which frames are tracked": detect-segment-track tracks over them, the synthetic world's
    ground-truth mask lists keep masks on them, and a mask list records them as its ``frame_indices``. A video
    shorter than the sample gives fewer frames (repeated indices are dropped).
    """
    return sorted(set(uniform_indices(int(num_frames), video.t_o_for(float(duration_s)))))


@dataclass(frozen=True, eq=False)
class Frames:
    """One sampler's frames. ``eq=False``: arrays do not define a truth value for ``==``."""

    indices: list[int]
    """Frame index of each image in the video (repeats when the video is shorter than the sample)."""
    images: np.ndarray
    """(K, H, W, 3) uint8 RGB."""
    timestamps_s: list[float]
    """``index / fps`` per image (0.0 for images; NaN if the video declares no frame rate, as a folder of frames
    probed without ``fps`` does)."""

    def __len__(self) -> int:
        return len(self.indices)


def _timestamps(info: VideoInfo, indices: Sequence[int]) -> list[float]:
    if info.is_image:
        return [0.0] * len(indices)
    if not info.fps:
        return [math.nan] * len(indices)
    return [round(i / info.fps, 6) for i in indices]


def sample_frames(path: str | os.PathLike, counts: Mapping[str, int], *, decoder: str = "auto",
                  info: VideoInfo | None = None, stats: DecodeStats | None = None) -> dict[str, Frames]:
    """Uniformly sample each named sampler's frames from ``path``, decoding the file once.

    ``path`` may be a folder of frame images; pass ``info=check_video(folder, fps=...)`` to give it a frame rate
    (timestamps are NaN without one).

    Args:
        counts: sampler name -> frame count, e.g. ``{"t_v": 8, "t_o": 64, "n": 16}``.
        decoder: ``auto`` | ``decord`` | ``pyav`` (``VideoConfig.decoder``).
        info: an ok probe of ``path`` (skips the structural check).
        stats: filled with what the decode cost (``stats.passes == 1`` for a healthy file).

    Returns:
        name -> :class:`Frames` with ``images`` of shape (count, H, W, 3) uint8.

    Raises:
        VideoError subclasses for bad files.
    """
    if not counts:
        raise ValueError("sample_frames needs at least one sampler")
    info = info if info is not None else check_video(path, decode=False)
    info.raise_error()
    plan = {name: uniform_indices(info.frames, int(count)) for name, count in counts.items()}
    union = sorted({i for indices in plan.values() for i in indices})
    images = read_frames(path, union, decoder=decoder, info=info, stats=stats)  # (U, H, W, 3)
    position = {index: j for j, index in enumerate(union)}
    return {
        name: Frames(indices=indices, images=images[[position[i] for i in indices]],
                     timestamps_s=_timestamps(info, indices))
        for name, indices in plan.items()
    }


def load_visual(path: str | os.PathLike, count: int | None = None, *, decoder: str = "auto") -> Frames:
    """An image or a video as :class:`Frames`.

    An image gives its single frame (repeated ``count`` times when ``count`` is given); a video gives
    ``count`` uniform frames, or every frame when ``count`` is None.
    """
    info = check_video(path, decode=False)
    indices = list(range(info.frames)) if count is None else uniform_indices(info.frames, count)
    images = read_frames(path, indices, decoder=decoder, info=info)
    return Frames(indices=indices, images=images, timestamps_s=_timestamps(info, indices))
