"""``orion config [--preset NAME] [key=value ...]``: print the effective config as YAML (or --json).

Preset and overrides follow :func:`orion_core.config.settings_from_env` (``$ORION_PRESET`` / ``$ORION_OVERRIDES``
under the command line's), so this prints exactly what ``make run`` and the Dagster code location would use.
"""

from __future__ import annotations

import argparse
import json

import yaml

from . import available_presets, load_preset, settings_from_env


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="orion config", description=__doc__)
    parser.add_argument("--preset", default=None,
                        help=f"one of {available_presets()} or a YAML path (default: $ORION_PRESET, else tiny-cpu)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of YAML")
    parser.add_argument("overrides", nargs="*", help="dotted overrides, e.g. video.t_v=16")
    args = parser.parse_args(argv)
    config = load_preset(*settings_from_env(args.preset, args.overrides))
    data = {"digest": config.digest(), **config.to_dict()}
    print(json.dumps(data, indent=2) if args.json else yaml.safe_dump(data, sort_keys=False))
    return 0
