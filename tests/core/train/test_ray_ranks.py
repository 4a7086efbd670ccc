"""The torch.distributed environment each Ray rank gets from where the placement group put it."""

import pytest

from orion_core.train.ray_ranks import RankSpec, rank_envs


def test_ranks_on_two_nodes_get_local_ranks_and_rank_zero_as_master():
    places = [{"node": "a", "ip": "10.0.0.1", "port": 2900, "gpus": []},
              {"node": "b", "ip": "10.0.0.2", "port": 1, "gpus": []},
              {"node": "a", "ip": "10.0.0.1", "port": 2, "gpus": []}]
    envs = rank_envs(places)
    assert [e["RANK"] for e in envs] == ["0", "1", "2"] and {e["WORLD_SIZE"] for e in envs} == {"3"}
    assert [e["LOCAL_RANK"] for e in envs] == ["0", "0", "1"] and [e["LOCAL_SIZE"] for e in envs] == ["2", "1", "2"]
    assert {(e["MASTER_ADDR"], e["MASTER_PORT"]) for e in envs} == {("10.0.0.1", "2900")}
    assert [e["CROSS_RANK"] for e in envs] == ["0", "1", "0"] and "CUDA_VISIBLE_DEVICES" not in envs[0]


def test_gpu_ranks_see_their_nodes_gpus_and_pick_their_own():
    places = [{"node": "a", "ip": "h", "port": 1, "gpus": ["3"]}, {"node": "a", "ip": "h", "port": 2, "gpus": ["1"]},
              {"node": "b", "ip": "g", "port": 3, "gpus": ["0"]}]
    envs = rank_envs(places)
    assert [e["CUDA_VISIBLE_DEVICES"] for e in envs] == ["1,3", "1,3", "0"]
    assert [e["LOCAL_RANK"] for e in envs] == ["1", "0", "0"]


def test_rank_spec_is_checked():
    with pytest.raises(ValueError):
        RankSpec(workers=0)
    with pytest.raises(ValueError):
        RankSpec(strategy="ANYWHERE")
