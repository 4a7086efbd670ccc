"""``orion filter MANIFEST.jsonl --preset NAME --out DIR [key=value ...]``: filter a manifest into a training set.

Prints one JSON summary (version, counts per filter, thresholds, timing) on stdout; the files are described in
:mod:`orion_core.data.filters.report`. Exit status 0 on success, 2 on bad arguments or an unreadable manifest.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from orion_core.config import available_presets, load_preset


def _read_manifest(path: Path) -> list[dict]:
    rows = []
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except ValueError as exc:
            raise ValueError(f"{path}:{lineno}: not a JSON line ({exc})") from exc
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="orion filter", description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest", type=Path, help="manifest JSONL written by `orion manifest`")
    parser.add_argument("--preset", default="tiny-cpu", help=f"one of {available_presets()} or a YAML path")
    parser.add_argument("--out", required=True, type=Path, help="folder for train.json, removed.jsonl, report.json")
    parser.add_argument("--device", default=None,
                        help="torch device for scorer=clip (cpu, cuda, cuda:1); default: the preset's compute.device")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument("overrides", nargs="*", help="config overrides, e.g. data.quality_min=0.4")
    args = parser.parse_intermixed_args(argv)  # overrides may follow the options
    try:
        rows = _read_manifest(args.manifest)
    except (OSError, ValueError) as exc:
        print(f"orion filter: cannot read manifest: {exc}", file=sys.stderr)
        return 2
    config = load_preset(args.preset, args.overrides)

    from .dataset import filter_dataset
    from .report import write_filtered

    result = filter_dataset(rows, config, progress=not args.no_progress and sys.stderr.isatty(), device=args.device)
    report = write_filtered(result, args.out)
    summary = {k: report[k] for k in ("version", "counts", "thresholds", "timing")}
    summary["out"] = str(args.out)
    print(json.dumps(summary, indent=2, sort_keys=True))
    return 0
