"""run_training: bad samples counted and skipped, a NaN loss stops the job by name, resume after a broken save,
a foreign --out refused, and the loss going down on a fixed batch."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from orion_core.train.checkpoints import tag_for
from orion_core.train.errors import LossDivergedError, ResumeMismatchError
from orion_core.train.guard import LossGuard
from orion_core.train.runner import run_training

from .conftest import ListReporter


def test_bad_samples_are_counted_skipped_and_logged(dataset, make_job, tmp_path):
    index = json.loads(dataset.masks.read_text())
    index = {k: str(dataset.masks.parent / v) for k, v in index.items()}
    (tmp_path / "garbage.json").write_text("\x00\x01 not a mask list")
    pair = [{"from": "human", "value": "<video>\nDescribe the video."}, {"from": "gpt", "value": "A ball moves."}]
    bad = [
        {"id": "empty", "video": "videos/pretrain/pt_bad_00.mp4", "video_id": "pt_bad_00"},
        {"id": "gone", "video": "videos/pretrain/nowhere.mp4", "video_id": "nowhere"},
        {"id": "no_masks", "video": "videos/pretrain/pt_0000.mp4", "video_id": "unindexed"},
        {"id": "bad_masks", "video": "videos/pretrain/pt_0001.mp4", "video_id": "garbled"},
    ]
    index["garbled"] = str(tmp_path / "garbage.json")
    for video_id in ("pt_bad_00", "nowhere"):
        index[video_id] = index["pt_0000"]
    data = tmp_path / "train.json"
    data.write_text(json.dumps(dataset.records + [{**b, "conversations": pair, "split": "pretrain"} for b in bad]))
    (tmp_path / "index.json").write_text(json.dumps(index))
    reporter = ListReporter()
    # 4 steps x 2 samples > the 6 good pretraining samples: the whole first epoch (every bad one) is read
    summary = run_training(make_job(2, data=data, masks=tmp_path / "index.json", max_steps=4), reporter=reporter)
    assert summary.steps == 4 and summary.samples == 8
    reasons = {s["id"]: s["reason"] for s in summary.skipped}
    assert reasons == {"empty": "video: empty file", "gone": "video: missing file", "no_masks": "mask list missing",
                       "bad_masks": "mask list corrupt"}
    assert summary.skipped_count >= 4 and sum(summary.skipped_by_reason.values()) == summary.skipped_count
    for sample_id in reasons:
        assert any(line.startswith(f"skipped sample {sample_id} ") for line in reporter.logs), sample_id


def test_nan_loss_stops_with_step_and_batch(train_config, make_job, dataset, tmp_path):
    from orion_core.model.builders import build_videoorion
    from orion_core.model.checkpoint import save_checkpoint

    model = build_videoorion(train_config)
    with torch.no_grad():
        next(model.video_projector.parameters()).fill_(float("nan"))
    save_checkpoint(model, tmp_path / "nan_init", config=train_config)
    job = make_job(1, init=tmp_path / "nan_init", out=tmp_path / "run")
    with pytest.raises(LossDivergedError, match="non-finite loss at step 1") as info:
        run_training(job, reporter=ListReporter())
    ids = {r["id"] for r in dataset.records}
    assert info.value.step == 1 and info.value.batch_ids and set(info.value.batch_ids) <= ids
    error = json.loads((job.out / "error.json").read_text())
    assert error["type"] == "LossDivergedError" and error["step"] == 1 and error["batch_ids"] == info.value.batch_ids
    assert not (job.out / "summary.json").exists() and not (job.out / "deepspeed" / "latest").exists()


def test_exploding_loss_is_judged_against_the_recent_median():
    guard = LossGuard(factor=10, window=3)
    assert all(guard.verdict(x) is None for x in (2.0, 2.2, 1.9, 15.0))  # 15 < 10 x median(2.0, 2.2, 1.9)
    assert guard.verdict(250.0).startswith("exploding loss")
    assert guard.verdict(float("nan")) == "non-finite loss"
    assert LossGuard(factor=10, window=3).verdict(1e6) is None  # no history yet: nothing to compare with


@pytest.mark.parametrize("zero", [2, pytest.param(3, marks=pytest.mark.slow)])
def test_resume_after_a_save_cut_short_ends_where_the_full_run_ends(make_job, tmp_path, zero):
    job = make_job(1, max_steps=4, overrides=[f"train.zero_stage={zero}"])
    full = run_training(job, reporter=ListReporter())
    store = job.out / "deepspeed"
    assert sorted(p.name for p in store.iterdir() if p.is_dir()) == [tag_for(2), tag_for(4)]
    # A kill while step 4 was being saved: step-4 files half written, `latest` still naming step 2, no export
    for f in (store / tag_for(4)).iterdir():
        f.write_bytes(f.read_bytes()[:100])
    (store / "latest").write_text(tag_for(2))
    (job.out / "summary.json").unlink()
    shutil.rmtree(job.out / "export")
    reporter = ListReporter()
    resumed = run_training(job, reporter=reporter)
    assert any("removed incomplete checkpoint(s) ['step-00000004']" in line for line in reporter.logs)
    assert resumed.resumed_from_step == 2 and resumed.steps == full.steps == 4
    assert [s for s, _ in reporter.steps] == [3, 4]  # only the missing steps ran
    assert resumed.loss_curve[:2] == full.loss_curve[:2]
    assert resumed.final_loss == pytest.approx(full.final_loss, abs=1e-4)
    assert resumed.samples == full.samples and (job.out / "export" / "model.safetensors").is_file()
    again = run_training(job, reporter=ListReporter())  # finished: returns at once
    assert again.run_key == resumed.run_key and again.steps == 4


def test_another_run_in_the_same_out_is_refused(make_job, tmp_path):
    run_training(make_job(1, max_steps=0, out=tmp_path / "out"), reporter=ListReporter())
    other = make_job(1, overrides=["train.stage1.lr=0.5"], max_steps=0, out=tmp_path / "out")
    with pytest.raises(ResumeMismatchError, match="use another --out"):
        run_training(other, reporter=ListReporter())


def test_loss_goes_down_on_a_fixed_batch(dataset, make_job, tmp_path):
    instruct = [r for r in dataset.records if len(r["conversations"]) > 2][:1]
    data = tmp_path / "one.json"
    data.write_text(json.dumps(instruct))
    job = make_job(3, data=data, max_steps=12, overrides=[
        "train.stage3.global_batch=1", "train.stage3.micro_batch=1", "train.stage3.epochs=100",
        "train.stage3.lr=3.0e-3", "train.schedule=constant", "train.warmup_ratio=0", "train.checkpoint_every=100"])
    summary = run_training(job, reporter=ListReporter())
    losses = [c[1] for c in summary.loss_curve]
    assert len(losses) == 12 and max(losses[-3:]) < 0.7 * losses[0], losses
    assert max(losses[-3:]) < min(losses[:3]), losses


def test_steps_that_mostly_overflow_fail_instead_of_exporting(train_config, make_job, tmp_path):
    """Fault matrix: stage 2 trained from a stage 1 with one huge weight had loss ~4e35 and every step skipped on
    overflow ("weights were not updated"), yet finished and exported."""
    from orion_core.model.builders import build_videoorion
    from orion_core.model.checkpoint import save_checkpoint
    from orion_core.train.errors import UnhealthyTrainingError

    model = build_videoorion(train_config)
    with torch.no_grad():  # one flipped exponent bit in the LM head: a weight of ~1e-2 becomes ~3e36
        model.llm.lm_head.weight[5, 0] = 3.0e36
    save_checkpoint(model, tmp_path / "huge_init", config=train_config)
    job = make_job(2, init=tmp_path / "huge_init", out=tmp_path / "run", max_steps=2)
    with pytest.raises(UnhealthyTrainingError, match="2 of 2 optimizer steps overflowed"):
        run_training(job, reporter=ListReporter())
    assert json.loads((job.out / "error.json").read_text())["type"] == "UnhealthyTrainingError"
    assert not (job.out / "export").exists() and not (job.out / "summary.json").exists()


def test_health_check_counts_skipped_samples():
    from orion_core.train.errors import UnhealthyTrainingError
    from orion_core.train.loop import check_health
    from orion_core.train.summary import TrainerState

    fine = TrainerState(run_key="k", world_size=1, step=4, samples=8, skipped_events=4, overflow_steps=2)
    check_health(fine, max_bad_fraction=0.5)
    with pytest.raises(UnhealthyTrainingError, match="12 of 20 samples met were skipped"):
        check_health(TrainerState(run_key="k", world_size=1, step=4, samples=8, skipped_events=12),
                     max_bad_fraction=0.5)
