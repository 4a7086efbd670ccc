"""Integrity of stored outputs: each one carries its sha256 and is verified before it is reused.

A content address (``<config key>/<video sha256>.masks.json``, ``stageN_checkpoint/<digest>/``) says which
inputs made an output, not that the bytes on disk are still the ones written. So every output is *sealed* when
written and *verified* when reused; the one rule lives here so every kind of output adopts it with one call:

* a single file (mask list, tag record, cached feature file) gets ``<name>.sha256`` beside it, in
  ``sha256sum`` format: :func:`seal` / :func:`write_sealed_json` when writing, :func:`reusable` before reuse;
* a folder (a checkpoint export: safetensors, config JSON, tokenizer) gets a ``SHA256SUMS`` file listing every
  file under it: :func:`seal_tree` when writing, :func:`verify_tree` before reuse or load.

Both formats are what ``sha256sum -c`` reads, so a person can check a store by hand. A file without its seal
counts as unverified (a writer killed between the file and its seal): it is recomputed, never trusted.
:func:`reusable` moves a file that fails aside (``<name>.corrupt``) so the caller recomputes it and the bad
bytes stay for inspection instead of being overwritten.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from .atomic import write_json_atomic, write_text_atomic
from .digests import file_sha256

SEAL_SUFFIX = ".sha256"
TREE_SEAL = "SHA256SUMS"
CORRUPT_SUFFIX = ".corrupt"


class IntegrityError(ValueError):
    """A stored output is missing its seal or its bytes differ from the digest it was sealed with."""

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def seal_path(path: str | os.PathLike) -> Path:
    """Where the seal of file ``path`` lives: ``<name>.sha256`` beside it."""
    path = Path(path)
    return path.with_name(path.name + SEAL_SUFFIX)


def seal(path: str | os.PathLike) -> str:
    """Record the sha256 of file ``path`` beside it (atomically); returns the digest (64 hex)."""
    path = Path(path)
    digest = file_sha256(path)
    write_text_atomic(seal_path(path), f"{digest}  {path.name}\n")
    return digest


def write_sealed_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` atomically, then seal it. A kill between the two leaves an unsealed file: recomputed later."""
    path = write_text_atomic(path, text)
    seal(path)
    return path


def write_sealed_json(path: str | os.PathLike, data) -> Path:
    """:func:`~.atomic.write_json_atomic` (compact), then seal it."""
    path = write_json_atomic(path, data)
    seal(path)
    return path


def sealed_digest(path: str | os.PathLike) -> str | None:
    """The digest file ``path`` was sealed with (no hashing), or None when it has no seal."""
    sealed = seal_path(path)
    try:
        text = sealed.read_text(encoding="ascii").split()
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    return text[0] if text and len(text[0]) == 64 else None


def verify(path: str | os.PathLike) -> str:
    """Check file ``path`` against its seal; returns the digest or raises :class:`IntegrityError`."""
    path = Path(path)
    if not path.is_file():
        raise IntegrityError(path, "missing")
    expected = sealed_digest(path)
    if expected is None:
        raise IntegrityError(path, f"no seal ({seal_path(path).name} missing or unreadable): written by an "
                                   "interrupted or older run")
    actual = file_sha256(path)
    if actual != expected:
        raise IntegrityError(path, f"content changed since it was written (sha256 {actual[:16]}..., "
                                   f"sealed {expected[:16]}...)")
    return actual


def quarantine(path: str | os.PathLike) -> Path:
    """Move a bad output (file or folder) and its seal aside as ``<name>.corrupt``; returns the new path."""
    path = Path(path)
    target = path.with_name(path.name + CORRUPT_SUFFIX)
    if target.is_dir():
        import shutil

        shutil.rmtree(target)
    if path.exists():
        os.replace(path, target)
    seal_path(path).unlink(missing_ok=True)
    return target


def reusable(path: str | os.PathLike, *, report: Callable[[IntegrityError], None] | None = None) -> bool:
    """Whether an existing output at ``path`` may be reused: present and matching its seal.

    A present file that fails is passed to ``report`` (the caller says it in its log/metadata), moved aside with
    :func:`quarantine`, and False is returned so the caller recomputes it. An absent file is simply False.
    """
    path = Path(path)
    if not path.exists():
        return False
    try:
        verify(path)
        return True
    except IntegrityError as exc:
        if report is not None:
            report(exc)
        quarantine(path)
        return False


def _tree_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != TREE_SEAL)


def seal_tree(folder: str | os.PathLike) -> Path:
    """Write ``folder/SHA256SUMS`` listing the sha256 of every file under ``folder`` (relative paths)."""
    folder = Path(folder)
    lines = [f"{file_sha256(p)}  {p.relative_to(folder).as_posix()}\n" for p in _tree_files(folder)]
    return write_text_atomic(folder / TREE_SEAL, "".join(lines))


def add_to_tree_seal(folder: str | os.PathLike, path: str | os.PathLike) -> None:
    """Record one file written into an already sealed ``folder`` (e.g. the lineage beside an export) without
    re-hashing the rest."""
    folder, path = Path(folder), Path(path)
    listing = folder / TREE_SEAL
    name = path.relative_to(folder).as_posix()
    lines = [line for line in listing.read_text(encoding="utf-8").splitlines(keepends=True)
             if line.rstrip("\n").partition("  ")[2] != name]
    write_text_atomic(listing, "".join(lines) + f"{file_sha256(path)}  {name}\n")


def is_tree_sealed(folder: str | os.PathLike) -> bool:
    return (Path(folder) / TREE_SEAL).is_file()


def verify_tree(folder: str | os.PathLike) -> None:
    """Check every file ``SHA256SUMS`` lists (and that no file was added); raises :class:`IntegrityError`."""
    folder = Path(folder)
    listing = folder / TREE_SEAL
    if not folder.is_dir():
        raise IntegrityError(folder, "missing")
    if not listing.is_file():
        raise IntegrityError(folder, f"no {TREE_SEAL}: written by an interrupted or older run")
    expected: dict[str, str] = {}
    for line in listing.read_text(encoding="utf-8", errors="replace").splitlines():
        digest, _, name = line.partition("  ")
        expected[name] = digest
    present = {p.relative_to(folder).as_posix() for p in _tree_files(folder)}
    for name in sorted(set(expected) | present):
        if name not in present:
            raise IntegrityError(folder / name, "listed in SHA256SUMS but missing")
        if name not in expected:
            raise IntegrityError(folder / name, "not listed in SHA256SUMS (added after the output was written)")
        actual = file_sha256(folder / name)
        if actual != expected[name]:
            raise IntegrityError(folder / name, f"content changed since it was written (sha256 {actual[:16]}..., "
                                                f"sealed {expected[name][:16]}...)")
