"""A stage's consumed-input digest names exactly its samples and their per-video inputs."""

from __future__ import annotations

import json

from orion_core.contracts.integrity import write_sealed_json
from orion_core.train.consumed import consumed_inputs, file_digests

PAIR = [{"from": "human", "value": "<video>\nDescribe."}, {"from": "gpt", "value": "A ball."}]


def _train_json(path, samples):
    path.write_text(json.dumps(samples))
    return path


def _sample(i, split="pretrain", **extra):
    return {"id": f"s{i}", "video": f"v{i}.mp4", "video_id": f"v{i}", "split": split, "conversations": PAIR,
            "shard": "shard-00000", "scores": {"quality": 0.5}, **extra}


def test_bookkeeping_and_other_splits_do_not_change_the_digest(tmp_path):
    base = [_sample(0), _sample(1), _sample(2, split="instruct")]
    videos = {"v0": "md5-0", "v1": "md5-1", "v2": "md5-2", "v9": "md5-9"}
    a = consumed_inputs(_train_json(tmp_path / "a.json", base), stage=1, per_video={"video": videos})
    # re-sharded, re-scored, another split's sample changed, an unrelated video's digest changed: same stage-1 data
    moved = [{**base[0], "shard": "shard-00001", "scores": {"quality": 0.9}}, base[1],
             {**_sample(2, split="instruct"), "conversations": PAIR + PAIR}]
    b = consumed_inputs(_train_json(tmp_path / "b.json", moved), stage=1,
                        per_video={"video": {**videos, "v2": "other", "v9": "other"}})
    assert a.digest == b.digest and [s["id"] for s in a.samples] == ["s0", "s1"]
    assert set(a.per_video["video"]) == {"v0", "v1"}


def test_a_real_change_changes_the_digest(tmp_path):
    base = [_sample(0), _sample(1)]
    videos = {"v0": "md5-0", "v1": "md5-1"}
    ref = consumed_inputs(_train_json(tmp_path / "a.json", base), stage=2, per_video={"video": videos}).digest
    changes = [
        ([_sample(0)], {"video": videos}),                                   # a sample removed
        ([_sample(0), {**_sample(1), "conversations": PAIR[:1]}], {"video": videos}),  # its text changed
        (base, {"video": {**videos, "v1": "md5-new"}}),                        # a video's bytes changed
        (base, {"video": videos, "masks": {"v0": "m0", "v1": None}}),           # one more per-video input
    ]
    for i, (samples, per_video) in enumerate(changes):
        digest = consumed_inputs(_train_json(tmp_path / f"c{i}.json", samples), stage=2, per_video=per_video).digest
        assert digest != ref, i


def test_file_inputs_are_named_by_their_seal(tmp_path):
    sealed = write_sealed_json(tmp_path / "v0.masks.json", {"objects": []})
    plain = tmp_path / "v1.masks.json"
    plain.write_text("{}")
    digests = file_digests({"v0": sealed, "v1": plain, "v2": None})
    assert digests["v0"] == (tmp_path / "v0.masks.json.sha256").read_text().split()[0]
    assert len(digests["v1"]) == 64 and digests["v2"] is None


def test_samples_file_is_what_the_job_reads(tmp_path):
    from orion_core.train.records import load_records

    consumed = consumed_inputs(_train_json(tmp_path / "a.json", [_sample(0), _sample(1, split="instruct")]), stage=3)
    records = load_records(consumed.write_samples(tmp_path / "samples.json"), video_root=tmp_path, stage=3)
    assert [(r.id, r.video_id, r.split, r.media.name) for r in records] == [("s1", "v1", "instruct", "v1.mp4")]
