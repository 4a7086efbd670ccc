"""One way in for configuration: the code location's resource, a run config, ``orion config`` and ``main`` read
``ORION_PRESET`` / ``ORION_OVERRIDES`` and add their own overrides on top, the same way."""

from __future__ import annotations

import json
import dagster as dg

from orion_assets.resources import OrionConfigResource
from orion_core.config import load_preset

ENV_OVERRIDES = "data.shard_size=5;video.t_v=4"


def test_code_location_cli_and_run_config_agree(monkeypatch, capsys):
    from orion_core.cli import main as orion

    monkeypatch.setenv("ORION_OVERRIDES", ENV_OVERRIDES)
    expected = load_preset("tiny-cpu", ["data.shard_size=5", "video.t_v=4"])
    resource = OrionConfigResource.from_env()  # what definitions.py builds
    assert resource.load().digest() == expected.digest()
    assert orion(["config", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["digest"] == expected.digest()
    # main's command line (and a launchpad's run config) add to the environment's overrides
    assert OrionConfigResource.from_env(None, ["video.t_v=8"]).load() == expected.with_overrides(["video.t_v=8"])

    @dg.asset
    def probe(orion: OrionConfigResource) -> dict:
        return {"digest": orion.load().digest(), "t_v": orion.load().video.t_v, "shard": orion.load().data.shard_size}

    result = dg.materialize([probe], resources={"orion": resource}, run_config={
        "resources": {"orion": {"config": {"overrides": ["video.t_v=8"]}}}})
    assert result.output_for_node("probe") == {"digest": expected.with_overrides(["video.t_v=8"]).digest(),
                                               "t_v": 8, "shard": 5}
