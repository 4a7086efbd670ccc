"""The effective Orion config of a run: a preset plus dotted overrides, settable from Dagster run config.

In the launchpad: ``resources: {orion: {config: {preset: videoorion-7b, overrides: ["video.t_v=16"]}}}``.
"""

from __future__ import annotations

import os

import dagster as dg

from orion_core.config import OrionConfig, load_preset


class OrionConfigResource(dg.ConfigurableResource):
    preset: str = "tiny-cpu"
    """Preset name (configs/<preset>.yaml) or a YAML path (``$ORION_PRESET`` in :meth:`from_env`)."""
    overrides: list[str] = []
    """Dotted overrides applied on top of the preset, e.g. ``["data.shard_size=8"]`` (``$ORION_OVERRIDES``,
    ``;``-separated, in :meth:`from_env`)."""

    @classmethod
    def from_env(cls) -> "OrionConfigResource":
        """The preset and overrides of ``$ORION_PRESET`` / ``$ORION_OVERRIDES`` (read now, when the resource is built)."""
        return cls(preset=os.environ.get("ORION_PRESET", "tiny-cpu"),
                   overrides=[o for o in os.environ.get("ORION_OVERRIDES", "").split(";") if o.strip()])

    def load(self) -> OrionConfig:
        return load_preset(self.preset, self.overrides)

    def metadata(self) -> dict:
        """What every asset records so results can be traced to the exact config that made them."""
        config = self.load()
        return {
            "preset": config.name,
            "config_digest": config.digest(),
            "overrides": dg.MetadataValue.json(list(self.overrides)),
        }
