"""The effective Orion config of a run: a preset plus dotted overrides, settable from Dagster run config.

In the launchpad: ``resources: {orion: {config: {preset: videoorion-7b, overrides: ["video.t_v=16"]}}}``. The
layers are those of :func:`orion_core.config.settings_from_env`, as for ``make run`` and ``orion config``: the
preset (run config, else ``$ORION_PRESET``), then ``$ORION_OVERRIDES``, then the run config's ``overrides``.
"""

from __future__ import annotations

import dagster as dg

from orion_core.config import OrionConfig, load_preset, settings_from_env


class OrionConfigResource(dg.ConfigurableResource):
    preset: str = "tiny-cpu"
    """Preset name (configs/<preset>.yaml) or a YAML path (``$ORION_PRESET`` in :meth:`from_env`)."""
    overrides: list[str] = []
    """Dotted overrides applied on top of the preset and :attr:`env_overrides`, e.g. ``["data.shard_size=8"]``."""
    env_overrides: list[str] = []
    """``$ORION_OVERRIDES`` (``;``-separated) as read by :meth:`from_env`; applied before :attr:`overrides`, so run
    config adds to them instead of silently dropping them."""

    @classmethod
    def from_env(cls, preset: str | None = None, overrides: list[str] | tuple = ()) -> "OrionConfigResource":
        """``preset`` / ``overrides`` (a command line's) layered on ``$ORION_PRESET`` / ``$ORION_OVERRIDES``."""
        chosen, env_first = settings_from_env(preset, ())
        return cls(preset=chosen, env_overrides=env_first, overrides=list(overrides))

    def all_overrides(self) -> list[str]:
        return [*self.env_overrides, *self.overrides]

    def load(self) -> OrionConfig:
        return load_preset(self.preset, self.all_overrides())

    def metadata(self) -> dict:
        """What every asset records so results can be traced to the exact config that made them."""
        config = self.load()
        return {
            "preset": config.name,
            "config_digest": config.digest(),
            "overrides": dg.MetadataValue.json(self.all_overrides()),
        }
