"""Probe media files: what they hold and whether they are usable, without ever crashing a batch.

``check_video`` raises the typed :mod:`errors`; ``probe`` turns them into ``VideoInfo(ok=False,
error=<reason>)``; ``probe_many`` probes a list with a progress bar and keeps the input order, so one bad
file among thousands is a row in the manifest, not a failed run.

Images (jpg/png/bmp/webp) probe as single-frame videos: ``frames=1``, ``fps=None``, ``duration_s=0.0``.
A folder of frame images is a video (:mod:`.folder`: frame i is the i-th image file in natural name order,
``codec="jpeg-folder"``); it stores no frame rate, so ``fps`` is the ``fps`` argument or None.
A video's ``duration_s`` is ``frames / fps`` (None when the rate is unknown) - the same clock
``Frames.timestamps_s`` uses.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Iterable, Iterator

from tqdm import tqdm

from .container import inspect_container, signature_of
from .errors import ERRORS_BY_REASON, EmptyFileError, MissingFileError, NotAVideoError, UndecodableError, VideoError
from .folder import inspect_folder
from .image import inspect_image, is_image_path

VIDEO_EXTENSIONS: frozenset[str] = frozenset({
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".flv", ".mpg", ".mpeg", ".ts", ".wmv", ".3gp", ".ogv",
})


@dataclass(frozen=True)
class VideoInfo:
    """What probing found. Every field but ``path``/``ok``/``error``/``detail`` is None when not ok."""

    path: str
    ok: bool
    error: str | None
    """Short reason when not ok (``VideoError.reason``: "truncated", "not a video", ...)."""
    frames: int | None
    fps: float | None
    """Average frame rate; None for images (and the rare container that declares none, and a folder of frames
    probed without ``fps``)."""
    duration_s: float | None
    """``frames / fps`` (0.0 for images; None when ``fps`` is None)."""
    width: int | None
    height: int | None
    codec: str | None
    """libav decoder name for videos (``h264``), Pillow format for images (``jpeg``), the first image's format
    plus ``-folder`` for a folder of frames (``jpeg-folder``)."""
    detail: str | None = None
    """The underlying library message when not ok (for people; not part of ``to_json``)."""
    is_image: bool = False
    """A still image probed as a single-frame video (decoded with Pillow, not a video decoder)."""
    is_folder: bool = False
    """A folder of frame images (:mod:`.folder`; decoded with Pillow, one file per frame)."""

    def to_json(self) -> dict:
        """Plain dict: ``{path, ok, error}`` when not ok, else ``{path, ok, frames, fps, duration_s, width,
        height, codec}``."""
        if not self.ok:
            return {"path": self.path, "ok": False, "error": self.error}
        return {"path": self.path, "ok": True, "frames": self.frames, "fps": self.fps,
                "duration_s": self.duration_s, "width": self.width, "height": self.height, "codec": self.codec}

    @classmethod
    def failed(cls, error: VideoError) -> VideoInfo:
        return cls(path=error.path, ok=False, error=error.reason, frames=None, fps=None, duration_s=None,
                   width=None, height=None, codec=None, detail=error.detail)

    def raise_error(self) -> None:
        """Raise the typed :class:`VideoError` this failed probe recorded (no-op when ok)."""
        if not self.ok:
            raise ERRORS_BY_REASON.get(self.error or "", UndecodableError)(self.path, self.detail)


def check_video(path: str | os.PathLike, *, decode: bool = True, deep: bool = False,
                fps: float | None = None) -> VideoInfo:
    """Probe ``path`` (a video or image file, or a folder of frame images) and raise the typed
    :class:`VideoError` for any bad input.

    Args:
        decode: decode the first frame and the last GOP (cheap, catches undecodable data); False checks the
            container structure only (demux, no decoding) - what the frame readers use before decoding.
            A folder: every image's header and its first and last image decoded; False lists it and reads the
            first image's header only (see :mod:`.folder`).
        deep: decode every frame (slow; for audits).
        fps: frame rate of media that declare none - a folder of frames (which never does) or the rare
            container without one; a declared rate wins, and images keep ``fps=None``.

    Raises:
        MissingFileError, EmptyFileError, NotAVideoError, TruncatedVideoError, NoVideoStreamError,
        UndecodableError; ValueError for an ``fps`` that is not a positive number.
    """
    path = os.fspath(path)
    if fps is not None and not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    if not os.path.exists(path):
        raise MissingFileError(path, "no such file")
    if os.path.isdir(path):
        facts = inspect_folder(path, decode=decode, deep=deep)
        rate = float(fps) if fps is not None else None
        return VideoInfo(path=path, ok=True, error=None, frames=facts.frames, fps=rate,
                         duration_s=round(facts.frames / rate, 6) if rate else None, width=facts.width,
                         height=facts.height, codec=facts.codec, is_folder=True)
    if os.path.getsize(path) == 0:
        raise EmptyFileError(path, "0 bytes")
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except OSError as exc:  # permissions, a device or FIFO, I/O errors: nothing a decoder can read
        raise UndecodableError(path, f"cannot read the file: {exc}") from exc
    if is_image_path(path):
        try:
            img = inspect_image(path)
        except NotAVideoError:
            # Pillow does not know it. A video misnamed .jpg goes on to libav; anything else stops here
            # (libav's image demuxers trust the extension and would "open" a text file as a 0x0 jpeg).
            if not signature_of(path):
                raise
        else:
            return VideoInfo(path=path, ok=True, error=None, frames=1, fps=None, duration_s=0.0,
                             width=img.width, height=img.height, codec=img.codec, is_image=True)
    facts = inspect_container(path, decode=decode, deep=deep)
    rate = facts.fps or (float(fps) if fps is not None else None)
    duration = round(facts.frames / rate, 6) if rate else None
    return VideoInfo(path=path, ok=True, error=None, frames=facts.frames, fps=rate, duration_s=duration,
                     width=facts.width, height=facts.height, codec=facts.codec)


def probe(path: str | os.PathLike, *, deep: bool = False, fps: float | None = None) -> VideoInfo:
    """Like :func:`check_video` but never raises for bad input: ``ok=False, error=<reason>`` instead."""
    try:
        return check_video(path, deep=deep, fps=fps)
    except VideoError as exc:
        return VideoInfo.failed(exc)


def iter_probe(paths: Iterable[str | os.PathLike], *, deep: bool = False) -> Iterator[VideoInfo]:
    """Probe ``paths`` lazily, in order (for streaming output)."""
    for path in paths:
        yield probe(path, deep=deep)


def probe_many(paths: Iterable[str | os.PathLike], progress: bool = True, *, deep: bool = False) -> list[VideoInfo]:
    """Probe every path, in order, with a tqdm progress bar on stderr; bad files become ok=False rows."""
    paths = list(paths)
    bar = tqdm(paths, desc="probe", unit="file", disable=not progress, leave=False)
    return list(iter_probe(bar, deep=deep))


def find_videos(root: str | os.PathLike) -> list[str]:
    """Video files under directory ``root`` (by extension, case-insensitive), sorted by path."""
    found = []
    for dirpath, dirnames, filenames in os.walk(os.fspath(root)):
        dirnames.sort()
        found += [os.path.join(dirpath, f) for f in filenames if os.path.splitext(f)[1].lower() in VIDEO_EXTENSIONS]
    return sorted(found)
