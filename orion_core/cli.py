"""``orion`` command line: ``orion <command> [args]`` (also ``python -m orion_core``).

Each command lives in the module that owns the capability and exposes ``main(argv) -> int``; this file
only maps names to modules and imports the chosen one, so ``orion probe`` never pays for importing torch
models it does not use.
"""

from __future__ import annotations

import importlib
import sys

# name -> (module with main(argv), one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "probe": ("orion_core.video.cli", "probe video files: one JSON line per file"),
    "world": ("orion_core.data.synthetic.cli", "generate the embedded synthetic world (mp4 + ground truth)"),
    "manifest": ("orion_core.data.manifest", "probe a raw-video source into a manifest (JSONL), sharded"),
    "filter": ("orion_core.data.filters.cli", "quality / similarity / concept-balance filters -> training manifest"),
    "config": ("orion_core.config.cli", "print the effective config of a preset (with overrides)"),
    "data-version": ("orion_core.data.dvc_hash", "print the DVC md5 of a folder or file (the raw data version)"),
    "ask": ("orion_core.inference.cli", "ask a VideoOrion checkpoint about a video (or a first-frame box): JSON answer"),
    "model-info": ("orion_core.model.info", "parameters per module, stage schedule and token counts of a preset"),
    "masks": ("orion_core.pipeline.cli", "detect-segment-track one video: mask list + preview, JSON summary"),
    "eval": ("orion_core.experiments.cli", "score a checkpoint on a benchmark (JSON), or run the video-only vs VideoOrion ablation"),
    "train": ("orion_core.train.cli", "train one VideoOrion stage (1-3) as a DeepSpeed job; resumable, exports safetensors"),
    "lineage": ("orion_core.audit.lineage", "the chain behind a registered model (scores <- stages <- data), from MLflow"),
    "scores": ("orion_core.audit.scores", "latest benchmark scores per model version, from MLflow (--json)"),
}


def _usage() -> str:
    width = max(len(n) for n in COMMANDS)
    lines = ["usage: orion <command> [args] [--debug]   (orion <command> --help for details; --debug: tracebacks)",
             "", "commands:"]
    lines += [f"  {name.ljust(width)}  {help_}" for name, (_, help_) in COMMANDS.items()]
    return "\n".join(lines)


def one_line(exc: BaseException) -> str:
    """An error as one line: its type and message, whitespace folded (the traceback is for ``--debug``)."""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv  # any command: show the traceback instead of one line
    argv = [a for a in argv if a != "--debug"]
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"orion: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    from orion_core.config import ConfigError

    try:
        module = importlib.import_module(COMMANDS[name][0])
        return int(module.main(rest) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a user error (bad config, missing or corrupt file) is one line, not a traceback
        if debug:
            raise
        print(f"orion {name}: error: {one_line(exc)}  (--debug for the traceback)", file=sys.stderr)
        return 2 if isinstance(exc, ConfigError) else 1


if __name__ == "__main__":
    raise SystemExit(main())
