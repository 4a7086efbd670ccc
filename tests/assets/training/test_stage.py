"""The stage assets as the definitions hold them: inputs, the `gpu` pool and its limit, automation, the job."""

import json

import dagster as dg
import pytest
import yaml

from orion_assets.definitions import defs
from orion_assets.training.inputs import masks_index
from tests.conftest import ROOT


def test_stages_graph_pool_and_job():
    graph = defs.resolve_asset_graph()
    parents = {s: {k.to_user_string() for k in graph.get(dg.AssetKey(f"stage{s}_checkpoint")).parent_keys}
               for s in (1, 2, 3)}
    # Every stage reads cached features made by the frozen encoder; stage 1 is video-only (no mask lists).
    encoded = {"filtered_dataset", "vision_encoder", "frame_features"}
    assert parents == {1: encoded, 2: encoded | {"object_masks", "stage1_checkpoint"},
                       3: encoded | {"object_masks", "stage2_checkpoint"}}
    for stage in (1, 2, 3):
        asset = defs.get_assets_def(f"stage{stage}_checkpoint")
        assert asset.op.pool == "gpu" and graph.get(asset.key).automation_condition is not None
    pools = yaml.safe_load((ROOT / "dagster_home" / "dagster.yaml").read_text())["concurrency"]["pools"]
    assert pools == {"granularity": "op", "default_limit": 1}  # one training step at a time on this instance
    job = defs.resolve_job_def("training_job")
    assert {k.to_user_string() for k in job.asset_layer.executable_asset_keys} == {
        "vision_encoder", "stage1_checkpoint", "stage2_checkpoint", "stage3_checkpoint"}


def test_masks_index_over_shards():
    shards = {"shard-00000": {"path": "/a", "records": [["v1", "done", "/m/1.json", None],
                                                         ["v2", "failed", None, "undecodable"]]},
              "shard-00001": {"path": "/b", "records": [["v3", "cached", "/m/3.json", None]]}}
    index, digest = masks_index(shards)
    assert index == {"v1": "/m/1.json", "v2": None, "v3": "/m/3.json"}  # failed videos are listed as null
    assert masks_index(shards["shard-00000"])[0] == {"v1": "/m/1.json", "v2": None}  # a lone partition, bare
    shards["shard-00001"]["records"][0][2] = "/m/3b.json"
    assert masks_index(shards)[1] != digest
    shards["shard-00001"]["records"].append(["v1", "done", "/m/other.json", None])
    with pytest.raises(dg.Failure, match="two mask lists"):
        masks_index(shards)


def test_cached_features_and_the_frozen_encoder_are_consumed_inputs(tmp_path):
    """What the stage assets pass (orion_assets.training.inputs.per_video_inputs + the vision_encoder digest): a new
    features file of one of the stage's videos, or another encoder, is a real change; no encoder keeps the digest a
    stage without one always had."""
    from orion_assets.training.inputs import per_video_inputs
    from orion_core.contracts.integrity import write_sealed_json
    from orion_core.train.consumed import consumed_inputs

    pair = [{"from": "human", "value": "<video>\nDescribe."}, {"from": "gpt", "value": "A ball."}]
    train_json = tmp_path / "a.json"
    train_json.write_text(json.dumps([{"id": f"s{i}", "video": f"v{i}.mp4", "video_id": f"v{i}", "split": "pretrain",
                                       "conversations": pair} for i in (0, 1)]))
    md5 = tmp_path / "md5.json"
    md5.write_text(json.dumps({"v0": "md5-0", "v1": "md5-1"}))
    features = {"v0": write_sealed_json(tmp_path / "f0", {"x": 0}), "v1": write_sealed_json(tmp_path / "f1", {"x": 1})}

    def consumed(features, encoder):
        per_video = per_video_inputs({"video_md5": str(md5)}, None, features)
        return consumed_inputs(train_json, stage=1, per_video=per_video,
                               whole_inputs={"vision_encoder": encoder} if encoder else None)

    ref = consumed(features, "enc-1")
    assert set(ref.per_video) == {"video", "frame_features"} and ref.whole_inputs == {"vision_encoder": "enc-1"}
    assert consumed(features, "enc-2").digest != ref.digest
    assert consumed({**features, "v1": write_sealed_json(tmp_path / "f1b", {"x": 2})}, "enc-1").digest != ref.digest
    assert consumed({**features, "v9": write_sealed_json(tmp_path / "f9", {"x": 9})}, "enc-1").digest == ref.digest
    plain = consumed_inputs(train_json, stage=1, per_video={"video": {"v0": "md5-0", "v1": "md5-1"}})
    assert consumed_inputs(train_json, stage=1, per_video=plain.per_video, whole_inputs={}).digest == plain.digest
