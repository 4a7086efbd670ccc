"""``orion config --preset NAME [key=value ...]``: print the effective config as YAML (or --json)."""

from __future__ import annotations

import argparse
import json

import yaml

from . import available_presets, load_preset


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="orion config", description=__doc__)
    parser.add_argument("--preset", default="tiny-cpu", help=f"one of {available_presets()} or a YAML path")
    parser.add_argument("--json", action="store_true", help="print JSON instead of YAML")
    parser.add_argument("overrides", nargs="*", help="dotted overrides, e.g. video.t_v=16")
    args = parser.parse_args(argv)
    config = load_preset(args.preset, args.overrides)
    data = {"digest": config.digest(), **config.to_dict()}
    print(json.dumps(data, indent=2) if args.json else yaml.safe_dump(data, sort_keys=False))
    return 0
