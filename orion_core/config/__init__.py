"""Typed, frozen configuration for every Orion concern, and YAML presets.

A preset (``configs/<name>.yaml``) fills :class:`OrionConfig`; command lines and Dagster run config
override single values with dotted keys (``video.t_v=16``). The effective config is recorded next to
every result via :meth:`OrionConfig.to_dict` and :meth:`OrionConfig.digest`.

The design sketch names one ``config.py``; it became a package with one file per concern so each stays
small and is owned by the code that reads it (see DESIGN.md in the repo).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from orion_core.contracts.digests import json_digest

from .base import ConfigError, check, from_dict, to_dict
from .compute import ComputeConfig
from .data import DataConfig
from .eval import EvalConfig
from .model import ModelConfig
from .pipeline import PipelineConfig
from .train import EncoderPretrainConfig, StageConfig, TrainConfig
from .video import VideoConfig
from .world import WorldConfig

__all__ = [
    "ComputeConfig", "ConfigError", "DataConfig", "EncoderPretrainConfig", "EvalConfig", "ModelConfig", "OrionConfig",
    "PipelineConfig", "StageConfig", "TrainConfig", "VideoConfig", "WorldConfig", "PRESETS_DIR", "PROJECT_ROOT",
    "available_presets", "load_preset", "parse_overrides", "settings_from_env", "DEFAULT_PRESET",
]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PRESETS_DIR = PROJECT_ROOT / "configs"


@dataclass(frozen=True, kw_only=True)
class OrionConfig:
    name: str
    """Preset name (``tiny-cpu``, ``videoorion-7b``, ...)."""
    description: str = ""
    """One line on what the preset is for."""
    world: WorldConfig = field(default_factory=WorldConfig)
    video: VideoConfig = field(default_factory=VideoConfig)
    data: DataConfig = field(default_factory=DataConfig)
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    compute: ComputeConfig = field(default_factory=ComputeConfig)
    """Where models run (device, mixed precision); left out of :meth:`digest`."""

    def __post_init__(self) -> None:
        check(bool(self.name), "config needs a name")

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    def digest(self, *sections: str) -> str:
        """sha256 (hex, 16 chars) of the whole config or of the named sections, for content addressing.

        ``compute`` (the device) is left out of the whole-config digest: where a run happens does not change what
        it means, and a CPU-made output stays valid on a GPU box (name it in ``sections`` to digest it anyway).
        """
        data = self.to_dict()
        if sections:
            data = {s: data[s] for s in sections}
        else:
            data.pop("compute")
        return json_digest(data)

    def with_overrides(self, overrides: Mapping[str, Any] | Iterable[str]) -> "OrionConfig":
        """A new config with dotted-key overrides applied (``{"video.t_v": 16}`` or ``["video.t_v=16"]``)."""
        if not isinstance(overrides, Mapping):
            overrides = parse_overrides(overrides)
        data = self.to_dict()
        for dotted, value in overrides.items():
            _set_dotted(data, dotted, value)
        return from_dict(OrionConfig, data)


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    node = data
    for i, key in enumerate(keys[:-1]):
        if not isinstance(node.get(key), dict):
            raise ConfigError(f"override {dotted!r}: {'.'.join(keys[: i + 1])} is not a config section")
        node = node[key]
    if keys[-1] not in node:
        raise ConfigError(f"override {dotted!r}: unknown key {keys[-1]!r}")
    node[keys[-1]] = value


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """Parse ``key=value`` strings; values are YAML scalars/lists (``16``, ``true``, ``[1,2]``, ``null``)."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"override {item!r} is not of the form section.key=value")
        key, raw = item.split("=", 1)
        out[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
    return out


DEFAULT_PRESET = "tiny-cpu"
"""The embedded default."""


def settings_from_env(preset: str | None = None, overrides: Iterable[str] = (),
                      environ: Mapping[str, str] | None = None) -> tuple[str, list[str]]:
    """The one rule for which preset and overrides a run uses, whoever starts it (``make run``, the Dagster code
    location, ``orion config``): ``preset`` if given, else ``$ORION_PRESET``, else :data:`DEFAULT_PRESET`; the
    overrides of ``$ORION_OVERRIDES`` (``;``-separated ``key=value``) first, then ``overrides`` (a later one wins).
    Returns ``(preset, overrides)`` for :func:`load_preset`.
    """
    env = os.environ if environ is None else environ
    chosen = preset or env.get("ORION_PRESET") or DEFAULT_PRESET
    from_env = [o.strip() for o in env.get("ORION_OVERRIDES", "").split(";") if o.strip()]
    return chosen, [*from_env, *overrides]


def available_presets() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml") if not p.stem.startswith("_"))


def load_preset(name_or_path: str | Path, overrides: Mapping[str, Any] | Iterable[str] | None = None) -> OrionConfig:
    """Load a preset by name (``configs/<name>.yaml``) or path, then apply overrides.

    Presets may say ``inherits: <other preset>`` to start from another preset's values.
    """
    path = Path(name_or_path)
    if not path.suffix:
        path = PRESETS_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        raise ConfigError(f"preset {str(name_or_path)!r} not found (looked for {path}); known: {available_presets()}")
    data = yaml.safe_load(path.read_text()) or {}
    parent = data.pop("inherits", None)
    if parent:
        base = load_preset(parent).to_dict()
        data = _deep_merge(base, data)
    config = from_dict(OrionConfig, data)
    if overrides:
        config = config.with_overrides(overrides)
    return config


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def replace(config: Any, **changes: Any) -> Any:
    """``dataclasses.replace`` re-exported: configs are frozen, derive new ones instead of mutating."""
    return dataclasses.replace(config, **changes)
