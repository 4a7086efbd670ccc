"""``orion world --preset tiny-cpu --out DIR [key=value ...]``: generate (or reuse) the synthetic world.

Overrides name world keys (``num_pretrain=3``) or any dotted key (``world.seed=5``). Prints one JSON
line: output folder, digest, whether an existing world was reused, counts and seconds.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ...config import available_presets, load_preset, parse_overrides
from .generate import generate_world


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="orion world", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="tiny-cpu", help=f"one of {available_presets()} or a YAML path")
    parser.add_argument("--out", required=True, type=Path, help="output folder (created if missing)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("overrides", nargs="*", help="world overrides, e.g. num_pretrain=3 or world.seed=5")
    args = parser.parse_args(argv)
    overrides = {(k if "." in k else f"world.{k}"): v for k, v in parse_overrides(args.overrides).items()}
    config = load_preset(args.preset, overrides)
    summary = generate_world(config.world, args.out, progress=not args.quiet)
    print(json.dumps({"out": str(summary.out_dir), "digest": summary.digest, "skipped": summary.skipped,
                      "counts": summary.counts, "seconds": round(summary.seconds, 3)}))
    return 0
