"""The effective Orion config of a run: a preset plus dotted overrides, settable from Dagster run config.

In the launchpad: ``resources: {orion: {config: {preset: videoorion-7b, overrides: ["video.t_v=16"]}}}``. The
layers are those of :func:`orion_core.config.settings_from_env`, as for ``make run`` and ``orion config``: the
preset (run config, else ``$ORION_PRESET``), then ``$ORION_OVERRIDES``, then the run config's ``overrides``.
"""

from __future__ import annotations

import dagster as dg

from orion_core.config import OrionConfig, load_preset, settings_from_env


class OrionConfigResource(dg.ConfigurableResource):
    """Preset + overrides, resolved by :func:`orion_core.config.settings_from_env` when the config is loaded.

    The environment layer is applied in :meth:`load`, not stored by :meth:`from_env`: a run config for this resource
    rebuilds it from its schema (fields it does not name fall back to their defaults), so stored environment values
    would silently vanish from any run launched with run config.
    """

    preset: str = ""
    """Preset name (configs/<preset>.yaml) or a YAML path; empty = ``$ORION_PRESET``, else tiny-cpu."""
    overrides: list[str] = []
    """Dotted overrides applied on top of the preset and ``$ORION_OVERRIDES``, e.g. ``["data.shard_size=8"]``."""

    @classmethod
    def from_env(cls, preset: str | None = None, overrides: list[str] | tuple = ()) -> "OrionConfigResource":
        """A command line's ``preset`` / ``overrides`` (none for the code location), layered on the environment."""
        return cls(preset=preset or "", overrides=list(overrides))

    def settings(self) -> tuple[str, list[str]]:
        """``(preset, every override in the order applied)``."""
        return settings_from_env(self.preset or None, self.overrides)

    def all_overrides(self) -> list[str]:
        return self.settings()[1]

    def load(self) -> OrionConfig:
        return load_preset(*self.settings())

    def metadata(self) -> dict:
        """What every asset records so results can be traced to the exact config that made them."""
        config = self.load()
        return {
            "preset": config.name,
            "config_digest": config.digest(),
            "overrides": dg.MetadataValue.json(self.all_overrides()),
        }
