"""The video manifest: every media file of a raw source probed, with its training sample attached.

One JSONL row per file (``ok`` true or false - bad files are listed with their reason, never dropped):
``{"video_id", "relpath", "path", "md5", "shard", "ok", "error", "frames", "fps", "duration_s", "width", "height",
"codec", "split", "sample"}``. ``sample`` is the file's training sample in the VideoLLaMA2/LLaVA conversation format
(``{"id", "video", "conversations": [...]}``) taken from the source's sample lists - any top-level ``*.json`` holding
a list of such records (``pretrain.json``, ``instruct.json`` in the synthetic world); ``split`` is that file's stem.

``orion manifest SOURCE --out DIR`` writes ``DIR/manifest.jsonl`` (all shards, or ``--shard``); the Dagster asset
``video_manifest`` builds the same rows per shard with :func:`shard_manifest`, at the content address
:func:`shard_manifest_digest`, and ``filtered_dataset`` reads them back with :func:`merge_manifests`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter
from pathlib import Path
from typing import Iterable

from orion_core.config import OrionConfig, load_preset
from orion_core.contracts.digests import json_digest
from orion_core.contracts.integrity import reusable, seal
from orion_core.data.ingest import Snapshot, local_copy, read_text, snapshot

logger = logging.getLogger(__name__)


def load_samples(snap: Snapshot, *, endpoint_url: str | None = None) -> dict[str, dict]:
    """relpath of a media file -> its training sample (with ``split``), from top-level conversation lists."""
    samples: dict[str, dict] = {}
    for f in snap.files:
        if "/" in f.relpath or not f.relpath.endswith(".json"):
            continue
        try:
            records = json.loads(read_text(snap.source, f.relpath, endpoint_url=endpoint_url))
        except ValueError as exc:
            raise ValueError(f"sample list {f.relpath} in {snap.source} is not valid JSON: {exc}") from exc
        if not isinstance(records, list) or not records or not isinstance(records[0], dict):
            continue
        if "conversations" not in records[0] or "video" not in records[0]:
            continue  # e.g. benchmark files: not training samples
        split = Path(f.relpath).stem
        for rec in records:
            samples[rec["video"]] = {**rec, "split": split}
    return samples


def video_ids(relpaths: Iterable[str]) -> dict[str, str]:
    """relpath -> video id: the file stem, made unique with the parent path when stems collide."""
    relpaths = sorted(relpaths)
    stems = Counter(Path(r).stem for r in relpaths)
    return {r: Path(r).stem if stems[Path(r).stem] == 1 else str(Path(r).with_suffix("")).replace("/", "__") for r in relpaths}


def build_manifest(snap: Snapshot, shards: Iterable[str] | None = None, *, endpoint_url: str | None = None,
                   progress: bool = True) -> list[dict]:
    """Probe the media files of ``shards`` (all when None) and return manifest rows sorted by relpath."""
    from orion_core.video.probe import probe_many

    shard_of = snap.shard_of()
    wanted = set(shards) if shards is not None else set(snap.shards)
    unknown = wanted - set(snap.shards)
    if unknown:
        raise KeyError(f"unknown shard(s) {sorted(unknown)} for data version {snap.version}; known: {sorted(snap.shards)}")
    md5 = {f.relpath: f.digest for f in snap.files}
    relpaths = sorted(r for r, s in shard_of.items() if s in wanted)
    ids = video_ids(shard_of)
    samples = load_samples(snap, endpoint_url=endpoint_url)
    paths = [str(local_copy(snap.source, r, endpoint_url=endpoint_url)) for r in relpaths]
    infos = probe_many(paths, progress=progress)
    rows = []
    for rel, path, info in zip(relpaths, paths, infos):
        facts = info.to_json()
        sample = samples.get(rel)
        rows.append({
            "video_id": ids[rel], "relpath": rel, "path": path, "md5": md5[rel], "shard": shard_of[rel],
            "ok": facts["ok"], "error": facts.get("error"), "detail": None if facts["ok"] else (info.detail or None),
            **{k: facts.get(k) for k in ("frames", "fps", "duration_s", "width", "height", "codec")},
            "split": sample["split"] if sample else None,
            "sample": {k: v for k, v in sample.items() if k != "split"} if sample else None,
        })
    return rows


def shard_manifest_digest(snap: Snapshot, shard: str, config: OrionConfig) -> str:
    """Content address of one shard's manifest: its files and their md5s, the video config and the probing code."""
    from orion_core.codeversion import code_digest

    md5s = {f.relpath: f.digest for f in snap.files}
    return json_digest([[r, md5s[r]] for r in snap.shards[shard]]
                       + [config.digest("video"), code_digest("orion_core.data.manifest", "orion_core.video")],
                       compact=False)


def shard_manifest(snap: Snapshot, shard: str, config: OrionConfig, path: Path) -> tuple[list[dict], bool]:
    """One shard's manifest rows at ``path`` (its content address): read back when there, else probed and written.

    Returns ``(rows, cached)``.
    """
    if reusable(path, report=lambda exc: logger.warning(f"{exc}; moved aside, probing the shard again")):
        return read_jsonl(path), True
    rows = build_manifest(snap, [shard], endpoint_url=config.data.s3_endpoint_url)
    write_jsonl(rows, path)
    seal(path)  # verified when reused (orion_core.contracts.integrity)
    return rows, False


def merge_manifests(paths: Iterable[str | Path]) -> list[dict]:
    """The rows of several shard manifests, sorted by relpath (the order ``orion manifest`` writes)."""
    return sorted((r for path in paths for r in read_jsonl(Path(path))), key=lambda r: r["relpath"])


def summarize(rows: list[dict]) -> dict:
    bad = [r for r in rows if not r["ok"]]
    return {
        "videos": len(rows), "ok": len(rows) - len(bad), "bad": len(bad),
        "bad_fraction": round(len(bad) / len(rows), 4) if rows else 0.0,
        "bad_by_reason": dict(Counter(r["error"] for r in bad)),
        "with_sample": sum(1 for r in rows if r["sample"]),
        "by_split": dict(Counter(r["split"] or "none" for r in rows)),
    }


def bad_file_lines(rows: list[dict]) -> list[str]:
    """One readable line per bad file: ``relpath: reason (detail)``."""
    lines = []
    for r in rows:
        if not r["ok"]:
            detail = " ".join(str(r.get("detail") or "").split())[:200]  # one line, whatever the decoder said
            lines.append(f"{r['relpath']}: {r['error']}" + (f" ({detail})" if detail else ""))
    return lines


def write_jsonl(rows: list[dict], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
    tmp.replace(path)
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="orion manifest", description=__doc__.split("\n\n")[0])
    parser.add_argument("source", nargs="?", help="local folder or s3:// prefix (default: the preset's data.source)")
    parser.add_argument("--preset", default="tiny-cpu")
    parser.add_argument("--out", required=True, type=Path, help="folder for manifest.jsonl and summary.json")
    parser.add_argument("--shard", action="append", help="only these shards (repeatable)")
    parser.add_argument("overrides", nargs="*", help="config overrides key=value")
    args = parser.parse_args(argv)
    config: OrionConfig = load_preset(args.preset, args.overrides)
    source = args.source or config.data.source
    if args.source and not args.source.startswith("s3://"):
        source = str(Path(args.source).resolve())  # a path typed on the command line is relative to the cwd
    snap = snapshot(source, shard_size=config.data.shard_size,
                    endpoint_url=config.data.s3_endpoint_url)
    rows = build_manifest(snap, args.shard, endpoint_url=config.data.s3_endpoint_url, progress=sys.stderr.isatty())
    write_jsonl(rows, args.out / "manifest.jsonl")
    summary = {"data_version": snap.version, "shards": len(snap.shards), **summarize(rows)}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    print(json.dumps(summary, sort_keys=True))
    return 0
