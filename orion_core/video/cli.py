"""``orion probe FILE|DIR ...``: one JSON line per media file, in order.

Directories are walked for video files (by extension, sorted). Every file is examined whatever it turns
out to be: a bad file is a line with ``"ok": false`` and its reason, never a crash, and the exit status is
0. Exit 2 is reserved for usage errors (no paths, unknown option).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from tqdm import tqdm

from .probe import find_videos, iter_probe


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orion probe",
        description="Probe media files: one JSON line per file with frames, fps, duration_s, width, height, "
                    "codec, or the reason it is unusable (missing file, empty file, not a video, truncated, "
                    "no video stream, undecodable).",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="video/image files or directories to walk")
    parser.add_argument("--deep", action="store_true", help="decode every frame (slow; default decodes a few)")
    parser.add_argument("--progress", action="store_true", help="show a progress bar on stderr")
    return parser


def expand_paths(paths: list[str]) -> list[str]:
    """Files as given; directories replaced by their video files (sorted). Missing paths stay (reported)."""
    out: list[str] = []
    for path in paths:
        out += find_videos(path) if os.path.isdir(path) else [path]
    return out


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 for --help
        return int(exc.code or 0)
    paths = expand_paths(args.paths)
    bar = tqdm(paths, desc="probe", unit="file", disable=not args.progress, file=sys.stderr)
    for info in iter_probe(bar, deep=args.deep):
        sys.stdout.write(json.dumps(info.to_json()) + "\n")
        sys.stdout.flush()  # stream results: a long probe can be followed (or piped) as it goes
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
