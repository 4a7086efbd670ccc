"""Cached features are sealed when written and verified before reuse: a changed or unsealed file is reported with
its path, moved aside and computed again, never used."""

from pathlib import Path

import pytest
import torch

from orion_core.contracts.integrity import seal_path
from orion_core.features import FeatureEncoder, FeatureStore, features_for_videos


@pytest.fixture(scope="module")
def encoder(tiny_config):
    return FeatureEncoder.from_config(tiny_config.with_overrides({"train.encoder.source": "preset"}))


def test_a_changed_or_unsealed_features_file_is_recomputed_not_reused(tiny_world, encoder, tmp_path):
    video = sorted((tiny_world / "videos" / "benchmark").glob("*.mp4"))[0]
    store = FeatureStore(tmp_path / "features")
    first = features_for_videos([("v", video, None)], encoder, store)
    assert first.status == {"v": "done"} and not first.recomputed
    path = first.index["v"]
    assert seal_path(path).is_file()
    good = FeatureStore.read(path)
    assert features_for_videos([("v", video, None)], encoder, store).status == {"v": "cached"}

    # A few bytes of tensor data changed (the file still loads, with wrong numbers): never used.
    data = bytearray(open(path, "rb").read())
    data[-8:] = bytes(255 - b for b in data[-8:])
    open(path, "wb").write(bytes(data))
    again = features_for_videos([("v", video, None)], encoder, store)
    assert again.status == {"v": "done"} and path in again.recomputed["v"] and "content changed" in again.recomputed["v"]
    assert Path(path).with_name(Path(path).name + ".corrupt").is_file()  # the bad bytes kept for inspection
    torch.testing.assert_close(FeatureStore.read(path).context, good.context)  # the recomputed file, sealed again
    assert features_for_videos([("v", video, None)], encoder, store).status == {"v": "cached"}

    # A file without its seal (a writer killed between the file and its seal) is not trusted either.
    seal_path(path).unlink()
    unsealed = features_for_videos([("v", video, None)], encoder, store)
    assert unsealed.status == {"v": "done"} and "no seal" in unsealed.recomputed["v"]
