"""Sample loading: tensors collate reads, and a countable reason for every kind of bad input."""

from __future__ import annotations

import dataclasses
import json

import pytest

from orion_core.model.collate import collate
from orion_core.train.records import load_mask_index, load_records
from orion_core.train.samples import Loaded, SampleLoader, Skipped
from orion_core.train.stream import MicroBatchStream, RankOrder


@pytest.fixture(scope="module")
def parts(train_config):
    from orion_core.model.builders import build_videoorion, input_spec
    from orion_core.model.tokenizer import build_tokenizer

    model = build_videoorion(train_config)
    return model, build_tokenizer(train_config.model), input_spec(train_config, model)


@pytest.fixture
def loader(dataset, train_config, parts):
    def make(records, use_objects=True):
        _, tokenizer, spec = parts
        return SampleLoader(records=records, config=train_config, spec=spec, tokenizer=tokenizer,
                            use_objects=use_objects)

    return make


@pytest.fixture
def records(dataset):
    return load_records(dataset.data, video_root=dataset.video_root, stage=2, mask_index=load_mask_index(dataset.masks))


def test_loaded_sample_collates_and_runs(records, loader, parts, train_config):
    model, tokenizer, spec = parts
    items = [loader(records)[(i, i)][1] for i in range(2)]
    assert all(isinstance(x, Loaded) for x in items)
    s = items[0].sample
    assert tuple(s["video"].shape) == (train_config.video.t_v, 3, spec.image_size, spec.image_size)
    n, t = s["object_masks"].shape[:2]
    assert n >= 1 and t == s["object_frames"].shape[0] == 8  # the mask list's tracked frames (t_o=8)
    assert tuple(s["object_masks"].shape[2:]) == spec.grid
    batch = collate([x.sample for x in items], tokenizer=tokenizer, spec=spec)
    assert model(batch).loss.isfinite()
    video_only = loader(records, use_objects=False)[(0, 0)][1]
    assert video_only.sample["object_masks"] is None and video_only.sample["object_frames"] is None


def test_every_bad_input_has_its_reason(records, loader, dataset, tmp_path):
    rec = records[0]
    garbage = tmp_path / "bad.masks.json"
    garbage.write_text("{not json")
    wrong_frames = tmp_path / "far.masks.json"
    data = json.loads(rec.masks.read_text())
    data["frame_indices"] = [10_000]
    wrong_frames.write_text(json.dumps(data))
    long_prompt = [{"from": "human", "value": "<video>\n" + "ball " * 1000}, {"from": "gpt", "value": "yes"}]
    long_answer = [{"from": "human", "value": "<video>\nDescribe."}, {"from": "gpt", "value": "ball " * 1000}]
    cases = {
        "video: missing file": dataclasses.replace(rec, id="a", media=tmp_path / "nope.mp4"),
        "video: empty file": dataclasses.replace(rec, id="b",
                                                 media=dataset.video_root / "videos/pretrain/pt_bad_00.mp4"),
        "mask list missing": dataclasses.replace(rec, id="c", masks=None),
        "mask list corrupt": dataclasses.replace(rec, id="d", masks=garbage),
        "template": dataclasses.replace(rec, id="e", conversations=({"from": "gpt", "value": "hi"},)),
    }
    for reason, bad in cases.items():
        item = loader([bad])[(0, 0)][1]
        assert isinstance(item, Skipped) and item.id == bad.id, (reason, item)
        assert item.reason.startswith(reason.split(":")[0]) and item.detail, (reason, item)
    assert loader([dataclasses.replace(rec, masks=wrong_frames)])[(0, 0)][1].reason == "mask list corrupt"
    # a prompt filling seq_len leaves no answer token: its loss would be 0/0 (NaN)
    assert loader([dataclasses.replace(rec, conversations=tuple(long_prompt))])[(0, 0)][1].reason == "no answer tokens"
    # a long answer is truncated but still teaches something
    assert isinstance(loader([dataclasses.replace(rec, conversations=tuple(long_answer))])[(0, 0)][1], Loaded)


def test_placeholders_beyond_seq_len(records, parts, train_config):
    _, tokenizer, spec = parts
    short = SampleLoader(records=records, config=train_config, spec=dataclasses.replace(spec, max_length=10),
                         tokenizer=tokenizer, use_objects=True)
    assert short[(0, 0)][1].reason == "sequence too long"


def test_bad_video_kinds_are_named(records, loader, dataset):
    truncated = dataclasses.replace(records[0], media=dataset.video_root / "videos/pretrain/pt_bad_01.mp4")
    item = loader([truncated])[(0, 0)][1]
    assert isinstance(item, Skipped) and item.reason.startswith("video: ")


def test_rank_order_is_disjoint_and_repeatable():
    a = RankOrder(10, rank=0, world=2, seed=3)
    b = RankOrder(10, rank=1, world=2, seed=3)
    first = [a.index(p) for p in range(5)] + [b.index(p) for p in range(5)]
    assert sorted(first) == list(range(10))  # one epoch: every record once across ranks
    assert [a.index(p) for p in range(5, 10)] != [a.index(p) for p in range(5)]  # the next epoch reshuffles
    assert [RankOrder(10, rank=0, world=2, seed=3).index(p) for p in range(12)] == [a.index(p) for p in range(12)]


def test_stream_skips_in_order_and_keeps_the_cursor(records, loader):
    bad = dataclasses.replace(records[0], id="bad", masks=None)
    recs = [bad, *records[1:4]]
    order = RankOrder(len(recs), rank=0, world=1, seed=0)
    stream = MicroBatchStream(loader(recs), order, start=0, micro_batch=2, workers=0)
    seen, skipped = [], []
    for _ in range(4):
        micro = next(stream)
        seen += micro.ids
        skipped += [s.id for s in micro.skipped]
        assert len(micro.ids) == 2
    expected = [recs[order.index(p)].id for p in range(stream.cursor)]
    assert seen == [i for i in expected if i != "bad"] and skipped == [i for i in expected if i == "bad"]
    # resuming at a cursor continues the same sequence
    again = MicroBatchStream(loader(recs), order, start=micro.cursor, micro_batch=2, workers=0)
    assert next(again).ids == next(stream).ids
    stream.close()
    again.close()


def test_a_share_with_nothing_usable_stops(records, loader):
    from orion_core.train.errors import NoUsableSamplesError

    bad = [dataclasses.replace(r, masks=None) for r in records[:3]]
    stream = MicroBatchStream(loader(bad), RankOrder(3, rank=0, world=1, seed=0), start=0, micro_batch=1, workers=0)
    with pytest.raises(NoUsableSamplesError, match="mask list missing"):
        next(stream)


def test_images_and_text_only_samples(records, loader, parts, tmp_path):
    from PIL import Image

    _, tokenizer, spec = parts
    image = tmp_path / "still.png"
    Image.new("RGB", (40, 30), (200, 30, 30)).save(image)
    pair = ({"from": "human", "value": "<image>\nWhat colour is it?"}, {"from": "gpt", "value": "Red."})
    text = ({"from": "human", "value": "Say hello."}, {"from": "gpt", "value": "Hello."})
    as_image = dataclasses.replace(records[0], id="img", media=image, conversations=pair, masks=None)
    text_only = dataclasses.replace(records[0], id="txt", media=None, conversations=text, masks=None)
    items = [loader([r], use_objects=False)[(0, 0)][1] for r in (as_image, text_only)]
    assert all(isinstance(x, Loaded) for x in items)
    assert tuple(items[0].sample["video"].shape) == (1, 3, spec.image_size, spec.image_size)  # a single frame
    assert items[1].sample["video"] is None
    batch = collate([x.sample for x in items], tokenizer=tokenizer, spec=spec)
    assert batch["has_video"].tolist() == [True, False]
    assert parts[0](batch).loss.isfinite()
