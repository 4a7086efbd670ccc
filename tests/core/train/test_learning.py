"""The real training path can learn: it overfits a handful of the world's questions, and what it learned is what the
evaluation path reads back (same features, same prompt, same answer form), so a misaligned label, mask, feature or
object token fails here instead of hiding behind chance-level benchmark scores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import ListReporter


@pytest.fixture(scope="module")
def mc_world(tmp_path_factory):
    """A few learnable-world videos: multiple-choice instruction data, ground-truth mask lists, cached features."""
    from orion_core.config import load_preset
    from orion_core.data.synthetic import generate_world
    from orion_core.data.synthetic.truth_masks import write_world_masks
    from orion_core.features import FeatureEncoder, FeatureStore, features_for_videos
    from orion_core.train.records import load_mask_index

    config = load_preset("tiny-cpu", ["world.num_pretrain=0", "world.num_instruct=4", "world.num_benchmark=0",
                                      "world.num_long=0", "world.num_corrupt=0", "world.low_quality_fraction=0",
                                      "world.noisy_caption_fraction=0", "world.brief_object_prob=1.0",
                                      "train.loader_workers=0", "train.encoder.source=preset", "model.stc_depth=1"])
    root = tmp_path_factory.mktemp("mc_world")
    world = root / "raw"
    generate_world(config.world, world, progress=False)
    records = [{**r, "video_id": r["id"], "split": "instruct"} for r in json.loads((world / "instruct.json").read_text())]
    (root / "train.json").write_text(json.dumps(records))
    masks = write_world_masks(world, root / "masks", config=config)
    index = load_mask_index(masks)
    report = features_for_videos([(r["id"], world / r["video"], index[r["id"]]) for r in records],
                                 FeatureEncoder.from_config(config), FeatureStore(root / "features"))
    assert report.counts()["failed"] == 0, report.errors
    (root / "features.json").write_text(json.dumps(report.index))
    return {"config": config, "world": world, "root": root, "records": records, "masks": masks, "index": index}


def test_training_overfits_world_questions_and_evaluation_reads_the_same_answers(mc_world, tmp_path):
    from orion_core.contracts.masklist import MaskList
    from orion_core.inference.predictor import OrionPredictor
    from orion_core.train.job import TrainJob
    from orion_core.train.runner import run_training

    config = mc_world["config"].with_overrides([
        "train.split_turns=true", "train.stage3.global_batch=8", "train.stage3.micro_batch=8",
        "train.stage3.epochs=1000", "train.stage3.max_steps=150", "train.stage3.lr=3.0e-3", "train.schedule=constant",
        "train.warmup_ratio=0", "train.checkpoint_every=1000", "train.log_every=50"])
    root = mc_world["root"]
    job = TrainJob(stage=3, config=config, data=root / "train.json", video_root=mc_world["world"],
                   masks=mc_world["masks"], features=root / "features.json", out=tmp_path / "out", preset="tiny-cpu")
    summary = run_training(job, reporter=ListReporter())
    assert summary.skipped_count == 0
    assert summary.final_loss < 0.05, summary.loss_curve[-5:]

    predictor = OrionPredictor.from_checkpoint(tmp_path / "out" / "export")
    asked = right_generated = right_likelihood = 0
    for record in mc_world["records"]:
        masks = MaskList.load(mc_world["index"][record["id"]])
        predictor.set_video(str(mc_world["world"] / record["video"]), masks=masks)
        conv = record["conversations"]
        for human, answer in zip(conv[0::2], conv[1::2]):
            question = human["value"].replace("<video>\n", "")
            options = [line[4:] for line in question.split("\n") if line[:1] == "(" and line[2:4] == ") "]
            text = predictor.ask(question, max_new_tokens=8).text
            scores = predictor.score_options(question, options)
            asked += 1
            right_generated += text == answer["value"]
            right_likelihood += options[max(range(len(options)), key=scores.__getitem__)] == answer["value"]
    assert asked >= 12
    # The evaluation path recomputes features from the video; it must see what training saw.
    assert right_generated >= 0.9 * asked and right_likelihood >= 0.9 * asked, (right_generated, right_likelihood, asked)


def test_features_of_another_encoder_are_refused(mc_world, tmp_path):
    from orion_core.train.errors import TrainError
    from orion_core.train.job import TrainJob
    from orion_core.train.runner import run_training

    config = mc_world["config"].with_overrides(["train.seed=7", "train.stage3.max_steps=1"])  # another random encoder
    root = mc_world["root"]
    job = TrainJob(stage=3, config=config, data=root / "train.json", video_root=mc_world["world"],
                   masks=mc_world["masks"], features=root / "features.json", out=tmp_path / "out", preset="tiny-cpu")
    with pytest.raises(TrainError, match="made by encoder"):
        run_training(job, reporter=ListReporter())


def test_shuffled_control_moves_object_tokens_across_videos(mc_world):
    """Every sample of the shuffled control gets another video's object features, each video's used once."""
    import torch

    from orion_core.contracts.donors import object_donors
    from orion_core.features import FeatureStore
    from orion_core.model.builders import input_spec
    from orion_core.model.tokenizer import build_tokenizer
    from orion_core.train.records import load_mask_index, load_records
    from orion_core.train.samples import SampleLoader

    config = mc_world["config"].with_overrides(["train.object_source=shuffled"])
    root = mc_world["root"]
    records = load_records(root / "train.json", video_root=mc_world["world"], stage=3, turns=True)
    features = load_mask_index(root / "features.json")
    loader = SampleLoader(records=records, config=config, spec=input_spec(config), tokenizer=build_tokenizer(config.model),
                          use_objects=True, features=features)
    donors = object_donors([r.video_id for r in records], seed=config.train.seed)
    assert all(donor != vid for vid, donor in donors.items()) and sorted(donors.values()) == sorted(donors)
    for record in records:
        sample = loader.load(record).sample
        own, theirs = (FeatureStore.read(features[v]) for v in (record.video_id, donors[record.video_id]))
        assert torch.equal(sample["context_features"], own.context)  # the video asked about
        assert torch.equal(sample["object_features"], theirs.objects)  # another video's objects
        assert not (own.objects.shape == theirs.objects.shape and torch.equal(own.objects, theirs.objects))
    assert object_donors(["a", "b", "c"], seed=0) == object_donors(["c", "b", "a"], seed=0)  # order-free, seeded
    with pytest.raises(ValueError):
        object_donors(["only"], seed=0)


def test_split_turns_makes_one_question_per_sample(mc_world):
    from orion_core.train.records import load_records

    whole = load_records(mc_world["root"] / "train.json", video_root=mc_world["world"], stage=3)
    split = load_records(mc_world["root"] / "train.json", video_root=mc_world["world"], stage=3, turns=True)
    assert len(split) == sum(len(r.conversations) // 2 for r in whole) > len(whole)
    for r in split:
        assert len(r.conversations) == 2 and r.conversations[0]["value"].startswith("<video>\n")
        assert r.conversations[0]["value"].count("<video>") == 1
    assert Path(split[0].media).is_file()
