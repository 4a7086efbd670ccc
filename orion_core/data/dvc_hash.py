"""DVC-compatible content hashes, so a data version can be computed without the DVC tool environment.

DVC 3 (``hash: md5``) hashes a file as the md5 of its raw bytes, and a directory as the md5 of the JSON list
``[{"md5": <file md5>, "relpath": <posix relpath>}, ...]`` sorted by relpath (``json.dumps(..., sort_keys=True)``)
with ``.dir`` appended. The test suite checks this against the real ``dvc add`` output, so a digest printed here
is the one in ``data/raw.dvc`` and on the S3 remote.

Hashing big folders repeatedly is wasteful, so file md5s are cached by (path, size, mtime_ns) in
``.orion/cache/md5.json`` (the same idea as DVC's own state database).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import threading
from pathlib import Path

from orion_core.config import PROJECT_ROOT
from orion_core.contracts.atomic import write_text_atomic

_CACHE_PATH = Path(os.environ.get("ORION_MD5_CACHE", PROJECT_ROOT / ".orion" / "cache" / "md5.json"))
_lock = threading.Lock()
_cache: dict[str, list] | None = None


def _load_cache() -> dict[str, list]:
    global _cache
    if _cache is None:
        try:
            _cache = json.loads(_CACHE_PATH.read_text())
        except (OSError, ValueError):
            _cache = {}
    return _cache


def _save_cache() -> None:
    if _cache is None:
        return
    write_text_atomic(_CACHE_PATH, json.dumps(_cache))


def file_md5(path: str | Path, *, use_cache: bool = True) -> str:
    """md5 hex digest of a file's bytes (DVC 3 file hash)."""
    path = Path(path)
    stat = path.stat()
    key = str(path.resolve())
    with _lock:
        hit = _load_cache().get(key) if use_cache else None
    if hit and hit[0] == stat.st_size and hit[1] == stat.st_mtime_ns:
        return hit[2]
    digest = hashlib.md5()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    md5 = digest.hexdigest()
    if use_cache:
        with _lock:
            _load_cache()[key] = [stat.st_size, stat.st_mtime_ns, md5]
    return md5


def iter_files(root: Path) -> list[Path]:
    """Files under ``root`` in DVC's order (sorted posix relpath); skips DVC/git internals."""
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in (".dvc", ".git")]
        for name in filenames:
            if name in (".gitignore", ".dvcignore"):
                continue
            files.append(Path(dirpath) / name)
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def dir_listing(root: str | Path) -> list[dict[str, str]]:
    """``[{"md5", "relpath"}]`` for every file under ``root``, sorted by relpath (DVC's ``.dir`` object)."""
    root = Path(root)
    listing = [{"md5": file_md5(p), "relpath": p.relative_to(root).as_posix()} for p in iter_files(root)]
    with _lock:
        _save_cache()
    return listing


def listing_md5(listing: list[dict[str, str]]) -> str:
    """DVC directory hash of a listing (md5 of its sorted-key JSON, plus ``.dir``)."""
    blob = json.dumps(sorted(listing, key=lambda e: e["relpath"]), sort_keys=True).encode()
    return hashlib.md5(blob).hexdigest() + ".dir"


def dvc_md5(path: str | Path) -> str:
    """The md5 DVC records for ``path`` (a file or a directory)."""
    path = Path(path)
    if path.is_dir():
        return listing_md5(dir_listing(path))
    if path.is_file():
        return file_md5(path)
    raise FileNotFoundError(f"no file or folder at {path}")


def recorded_md5(path: str | Path) -> str | None:
    """md5 in ``<path>.dvc`` (written by ``dvc add``), or None if the path is not DVC-tracked that way."""
    import yaml

    dvc_file = Path(f"{Path(path)}.dvc")
    if not dvc_file.is_file():
        return None
    data = yaml.safe_load(dvc_file.read_text()) or {}
    outs = data.get("outs") or []
    return outs[0].get("md5") if outs else None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="orion data-version", description="print the DVC md5 of files/folders")
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args(argv)
    for p in args.paths:
        print(json.dumps({"path": p, "md5": dvc_md5(p), "dvc_recorded": recorded_md5(p)}))
    return 0
