"""The common unit of every benchmark: :class:`Item`, plus where its media and annotation files come from.

Every loader in :mod:`orion_core.eval.benchmarks` turns a published annotation layout into ``Item``s, so
prompting, scoring and reporting never look at a benchmark's own field names. Three kinds:

* ``mc``        multiple choice: ``candidates`` and the right ``answer_idx`` (``answer`` is its text);
* ``open``      open-ended (ActivityNet-QA): ``answer`` is the reference answer, judged by an LLM;
* ``referring`` describe the object under ``extra["box"]`` (on ``extra["frame"]``): ``answer`` is the caption.

``video`` is a local path or an ``s3://`` URI (a file, or a folder of frame images for benchmarks that ship
frames); :class:`Source` turns either into a local file, downloading S3 objects once into a cache.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from orion_core.config import PROJECT_ROOT

KINDS = ("mc", "open", "referring")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


class BenchmarkError(ValueError):
    """An annotation file is missing or does not have the published layout; the message names the file."""


@dataclass(frozen=True)
class Item:
    id: str
    """Unique within the benchmark (the published question id where there is one)."""
    benchmark: str
    kind: str
    """``mc``, ``open`` or ``referring``."""
    video: str
    """Local path or s3:// URI of the video file (or of a folder of frames when ``extra["frames"]``)."""
    question: str
    """The question stem (options are not part of it; prompts add them)."""
    task: str
    """Category the per-category table groups by (MVBench task, Perception-Test area, ...)."""
    candidates: tuple[str, ...] = ()
    """Option texts, in the published order (mc only)."""
    answer: str | None = None
    """Right option text (mc), reference answer (open) or reference caption (referring); None if unpublished."""
    answer_idx: int | None = None
    """Index of the right option in ``candidates`` (mc); None when the benchmark hides its answers."""
    groups: dict[str, str] = field(default_factory=dict)
    """Further groupings reported beside ``task`` (Video-MME ``duration``, TemporalBench ``dataset``, ...)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Benchmark-specific facts: ``start``/``end`` seconds, ``frames`` (file names of a frame folder), ``fps``,
    ``subtitles`` (path/URI of an .srt), ``box`` [x0, y0, x1, y1] and ``frame`` (referring), ``group``
    (TemporalBench multi-binary group)."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise BenchmarkError(f"{self.benchmark}/{self.id}: kind {self.kind!r} is not one of {KINDS}")
        if self.kind == "mc":
            if len(self.candidates) < 2:
                raise BenchmarkError(f"{self.benchmark}/{self.id}: a multiple-choice item needs 2+ candidates")
            if self.answer_idx is not None and not 0 <= self.answer_idx < len(self.candidates):
                raise BenchmarkError(f"{self.benchmark}/{self.id}: answer_idx {self.answer_idx} is outside "
                                     f"{len(self.candidates)} candidates")
        if self.kind == "referring" and len(self.extra.get("box") or ()) != 4:
            raise BenchmarkError(f"{self.benchmark}/{self.id}: a referring item needs extra['box'] = [x0, y0, x1, y1]")

    @property
    def labelled(self) -> bool:
        """Whether the item can be scored (hidden test answers are not)."""
        return self.answer_idx is not None if self.kind == "mc" else self.answer is not None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["candidates"] = list(self.candidates)
        return data


@dataclass(frozen=True)
class Source:
    """A benchmark's root: a local folder (relative paths start at the project root) or an ``s3://`` prefix."""

    root: str
    endpoint_url: str | None = None
    """S3 endpoint (MinIO, moto); None uses boto3's default."""
    cache_dir: Path | None = None
    """Where S3 objects are downloaded (default ``.orion/cache/s3``)."""

    def __post_init__(self) -> None:
        from orion_core.data.ingest import resolve_source

        object.__setattr__(self, "root", resolve_source(str(self.root)).rstrip("/"))

    @property
    def is_s3(self) -> bool:
        return self.root.startswith("s3://")

    def uri(self, relpath: str) -> str:
        """Where ``relpath`` lives (a local path or an s3:// URI); nothing is fetched."""
        relpath = relpath.lstrip("/")
        return f"{self.root}/{relpath}" if self.is_s3 else str(Path(self.root) / relpath)

    def exists(self, relpath: str) -> bool:
        if not self.is_s3:
            return (Path(self.root) / relpath).exists()
        from orion_core.storage import s3_client, split_s3_uri

        bucket, key = split_s3_uri(self.uri(relpath))
        page = s3_client(self.endpoint_url).list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
        return bool(page.get("KeyCount"))

    def names(self, folder: str) -> list[str]:
        """File names directly inside ``folder`` (sorted); empty when the folder does not exist."""
        if not self.is_s3:
            path = Path(self.root) / folder
            return sorted(p.name for p in path.iterdir() if p.is_file()) if path.is_dir() else []
        from orion_core.storage import s3_client, split_s3_uri

        bucket, prefix = split_s3_uri(self.uri(folder).rstrip("/") + "/")
        names = []
        for page in s3_client(self.endpoint_url).get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix, Delimiter="/"):
            names += [obj["Key"][len(prefix):] for obj in page.get("Contents", [])]
        return sorted(n for n in names if n)

    def find_video(self, folder: str, stem: str, listing: dict[str, str] | None = None,
                   suffixes: tuple[str, ...] = (".mp4", ".mkv", ".webm", ".avi", ".mov")) -> str:
        """URI of ``folder/stem.<suffix>`` for the first suffix present (``listing``: stem -> name, from
        :meth:`stems`, saves a lookup per item). When none is present the ``.mp4`` name is returned, so the
        evaluation reports it as a missing file for that item instead of the loader guessing."""
        if listing is not None and stem in listing:
            return self.uri(f"{folder}/{listing[stem]}")
        if listing is None and not self.is_s3:
            for suffix in suffixes:
                if (Path(self.root) / folder / f"{stem}{suffix}").is_file():
                    return self.uri(f"{folder}/{stem}{suffix}")
        return self.uri(f"{folder}/{stem}{suffixes[0]}")

    def stems(self, folder: str) -> dict[str, str]:
        """stem -> file name of the media files in ``folder`` (one listing, for loaders with many items)."""
        out: dict[str, str] = {}
        for name in self.names(folder):
            stem, dot, suffix = name.rpartition(".")
            if dot:
                out.setdefault(stem, name)
        return out

    def local(self, relpath: str) -> Path:
        """A local file for ``relpath`` (downloaded once from S3, keyed by its ETag)."""
        return fetch(self.uri(relpath), endpoint_url=self.endpoint_url, cache_dir=self.cache_dir)

    def read_text(self, relpath: str, *, what: str) -> str:
        try:
            return self.local(relpath).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise BenchmarkError(f"{what} not found at {self.uri(relpath)}") from None
        except Exception as exc:  # botocore ClientError (404) and friends: name the object we looked for
            if type(exc).__name__ in ("ClientError", "NoSuchKey"):
                raise BenchmarkError(f"{what} not found at {self.uri(relpath)} ({exc})") from exc
            raise

    def read_json(self, relpath: str, *, what: str) -> Any:
        text = self.read_text(relpath, what=what)
        try:
            if relpath.endswith(".jsonl"):
                return [json.loads(line) for line in text.splitlines() if line.strip()]
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise BenchmarkError(f"{what} at {self.uri(relpath)} is not valid JSON: {exc}") from exc


def fetch(path_or_uri: str, *, endpoint_url: str | None = None, cache_dir: Path | None = None) -> Path:
    """Local path of a media/annotation file: local paths are returned as they are, s3:// objects are
    downloaded once (``orion_core.data.ingest.local_copy``, keyed by ETag). Missing local files are the
    caller's to report (video readers raise their typed ``MissingFileError``)."""
    if not str(path_or_uri).startswith("s3://"):
        path = Path(path_or_uri)
        return path if path.is_absolute() else PROJECT_ROOT / path
    from orion_core.data.ingest import local_copy

    prefix, _, name = str(path_or_uri).rpartition("/")
    return local_copy(prefix, name, endpoint_url=endpoint_url, cache_dir=cache_dir)


def fetch_frames(folder: str, names: list[str], *, endpoint_url: str | None = None,
                 cache_dir: Path | None = None) -> list[Path]:
    """Local paths of the frame images ``names`` inside ``folder`` (local path or s3:// prefix)."""
    return [fetch(f"{folder.rstrip('/')}/{name}", endpoint_url=endpoint_url, cache_dir=cache_dir) for name in names]
