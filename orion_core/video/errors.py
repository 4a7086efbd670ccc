"""Typed errors for bad video input.

Every way a media file can be unusable has its own class with a short, stable ``reason`` string; the
reasons are what manifests count and what ``orion probe`` prints, so they must not change casually.
``detail`` keeps the underlying library message for a person debugging one file.

    missing file     the path does not exist
    empty file       0 bytes
    not a video      no container or image format recognises the bytes (a text file named .mp4)
    truncated        a known container whose data stops early (cut download, moov atom lost)
    no video stream  a valid container with only audio/subtitle/data streams
    undecodable      structure is fine but the decoder rejects the frames
"""

from __future__ import annotations

from typing import ClassVar


class VideoError(Exception):
    """A media file that cannot be used as a video. ``path`` names the file, ``reason`` says why (short)."""

    reason: ClassVar[str] = "video error"

    def __init__(self, path: str, detail: str | None = None) -> None:
        self.path = str(path)
        self.detail = detail
        message = f"{self.path}: {self.reason}"
        super().__init__(f"{message} ({detail})" if detail else message)


class MissingFileError(VideoError):
    reason = "missing file"


class EmptyFileError(VideoError):
    reason = "empty file"


class NotAVideoError(VideoError):
    reason = "not a video"


class TruncatedVideoError(VideoError):
    reason = "truncated"


class NoVideoStreamError(VideoError):
    reason = "no video stream"


class UndecodableError(VideoError):
    reason = "undecodable"


#: reason string -> error class (every reason ``probe`` can report).
ERRORS_BY_REASON: dict[str, type[VideoError]] = {
    cls.reason: cls
    for cls in (MissingFileError, EmptyFileError, NotAVideoError, TruncatedVideoError, NoVideoStreamError,
                UndecodableError)
}
