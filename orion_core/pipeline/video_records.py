"""What one video's pass records and how it finds stored outputs: :class:`VideoRecord` per step, and
:func:`stored`, the reuse rule for a sealed output in the local or shared (S3) store (:mod:`.video_pass` runs the
pass itself)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from orion_core.contracts.digests import file_sha256
from orion_core.contracts.integrity import IntegrityError, reusable
from orion_core.contracts.integrity import verify as verify_seal
from orion_core.contracts.masklist import MaskListError
from orion_core.storage import S3Mirror
from orion_core.video.errors import MissingFileError, VideoError

from .errors import CorruptOutputError, PipelineError

logger = logging.getLogger(__name__)

RECORDED_ERRORS = (VideoError, PipelineError, MaskListError)
"""Per-video failures that are recorded while the shard goes on."""


@dataclass
class VideoRecord:
    video_id: str
    status: str
    """``done`` (computed now), ``cached`` (found under the same content address) or ``failed``."""
    error: str | None = None
    """Short reason when failed (VideoError.reason / PipelineError.reason, ``worker_lost``)."""
    detail: str | None = None
    """The full error message when failed."""
    objects: int = 0
    key_frames: int = 0
    seconds_by_stage: dict[str, float] = field(default_factory=dict)
    output: Path | None = None
    """The tags / mask-list file of this video (None when failed)."""
    decodes: int = 0
    """Decoder passes over the video file in the pass that made this record (shared by every step of the pass)."""
    recomputed: str | None = None
    """Why a stored output was not reused although its address existed (it failed its integrity check)."""


def failed_record(video_id: str, exc: BaseException) -> VideoRecord:
    return VideoRecord(video_id=video_id, status="failed", error=getattr(exc, "reason", type(exc).__name__),
                       detail=str(exc))


def video_digest(path: Path) -> str:
    if not path.is_file():
        raise MissingFileError(str(path))
    return file_sha256(path)


def resolve_video(video: str | Path, endpoint_url: str | None) -> Path:
    """A local path of the video: ``s3://`` URIs (handed to tasks on other nodes) are fetched into the node's cache."""
    if str(video).startswith("s3://"):
        from orion_core.data.ingest import local_copy

        folder, _, name = str(video).rpartition("/")
        return local_copy(folder, name, endpoint_url=endpoint_url)
    return Path(video)


def _corrupt(exc: IntegrityError) -> str:
    """One line for a stored output that failed its check; said in the log now, kept in the record."""
    line = f"{exc.path}: {exc.reason}; moved aside as {exc.path.name}.corrupt and recomputed"
    logger.warning(line)
    return line


def stored(target: Path, shared: S3Mirror | None, run: str, corrupt: list[str]) -> str | None:
    """``cached`` / ``done`` when the output ``target`` already exists and matches its seal (``done``: published by
    this very shard run, i.e. an earlier attempt of a re-run task), None when it has to be computed.

    A shared store is the truth: a sound file only in the local cache is published to it first; a local copy that
    fails its seal is fetched again, and one that still fails is recomputed (its new copy replaces the shared one).
    Every failed check is moved aside and appended to ``corrupt`` as one line naming the file.
    """
    def report(exc: IntegrityError) -> None:
        corrupt.append(_corrupt(exc))

    if shared is None:
        return "cached" if reusable(target, report=report) else None
    for _ in range(2):
        published = shared.fetch(target)
        if published is None:
            if not reusable(target, report=report):
                return None
            shared.publish(target, run="")
            return "cached"
        if reusable(target, report=report):
            return "done" if run and published == run else "cached"
    return None


def _verified(path: Path) -> Path:
    """``path`` when it matches its seal; else a recorded per-video failure (keyframe_tags recomputes it)."""
    try:
        verify_seal(path)
    except IntegrityError as exc:
        raise CorruptOutputError(str(exc)) from exc
    return path
