"""The job as it is launched: ``python -m orion_core.train`` killed with SIGKILL and re-run, two ranks under the
``deepspeed`` launcher (CPU, gloo, ZeRO-3), and the three stages chained end to end."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orion_core.train.runner import run_training

from .conftest import TRAIN_OVERRIDES, ListReporter

pytestmark = pytest.mark.slow


def _cli(stage: int, dataset, out: Path, *extra: str) -> list[str]:
    args = [sys.executable, "-m", "orion_core.train", "--stage", str(stage), "--preset", "tiny-cpu",
            "--data", str(dataset.data), "--video-root", str(dataset.video_root), "--masks", str(dataset.masks),
            "--out", str(out)]
    for item in TRAIN_OVERRIDES:
        args += ["--override", item]
    return args + list(extra)  # after the fixture's overrides, so a test's own win


def _events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def test_sigkill_mid_run_then_rerun_resumes_and_ends_like_an_uninterrupted_run(dataset, make_job, clean_env, tmp_path):
    steps = ["--max-steps", "12", "--override", "train.stage3.epochs=20"]  # 4 instruct records: 2 steps an epoch
    reference = run_training(make_job(3, out=tmp_path / "reference", max_steps=12,
                                      overrides=["train.stage3.epochs=20"]), reporter=ListReporter())

    out = tmp_path / "killed"
    proc = subprocess.Popen(_cli(3, dataset, out, *steps), env=clean_env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    latest = out / "deepspeed" / "latest"
    deadline = time.time() + 300
    while not (latest.is_file() and latest.read_text().strip() >= "step-00000004"):
        assert proc.poll() is None, "the job ended before it could be killed"
        assert time.time() < deadline, "no checkpoint within 300 s"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # mid-run: 8 of 12 steps to go, possibly in the middle of a save
    proc.wait()
    assert not (out / "summary.json").exists()

    rerun = subprocess.run(_cli(3, dataset, out, *steps), env=clean_env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["resumed_from_step"] in (4, 6)
    assert summary["steps"] == reference.steps == 12 and summary["samples"] == reference.samples
    assert summary["final_loss"] == pytest.approx(reference.final_loss, abs=1e-3)
    metrics = [e["step"] for e in _events(rerun.stdout) if e["event"] == "metrics"]
    assert metrics == list(range(summary["resumed_from_step"] + 1, 13))  # only the steps after the checkpoint ran


def test_two_ranks_under_the_deepspeed_launcher_zero3(dataset, clean_env, tmp_path):
    from orion_core.model.checkpoint import load_checkpoint

    out = tmp_path / "ranks"
    with socket.socket() as s:  # a free port for the rendezvous
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    launcher = [str(Path(sys.executable).parent / "deepspeed"), "--num_gpus", "2", "--master_addr", "127.0.0.1",
                "--master_port", str(port), "--no_local_rank", "--module"]
    cmd = launcher + _cli(3, dataset, out, "--max-steps", "2", "--override", "train.zero_stage=3",
                          "--override", "train.stage3.global_batch=4")[2:]  # "-m" -> the launcher's --module
    proc = subprocess.run(cmd, env=clean_env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-3000:])
    events = _events(proc.stdout)
    assert sum(e["event"] == "done" for e in events) == 1  # only rank 0 reports
    assert [e["step"] for e in events if e["event"] == "metrics"] == [1, 2]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["zero_stage"] == 3 and summary["samples"] == 8
    shards = sorted(p.name for p in (out / "deepspeed" / "step-00000002").iterdir())
    assert [s for s in shards if "optim_states" in s] == ["zero_pp_rank_0_mp_rank_00_optim_states.pt",
                                                          "zero_pp_rank_1_mp_rank_00_optim_states.pt"]
    model, _, config = load_checkpoint(out / "export")  # gathered from both ranks' partitions
    assert config.train.zero_stage == 3 and all(p.numel() > 0 for p in model.parameters())


def test_three_stages_end_to_end_loss_goes_down(make_job, tmp_path):
    init, summaries = None, []
    for stage in (1, 2, 3):
        job = make_job(stage, out=tmp_path / f"stage{stage}", init=init, overrides=[
            f"train.stage{stage}.epochs=4", f"train.stage{stage}.lr=3.0e-3"])
        summaries.append(run_training(job, reporter=ListReporter()))
        init = job.out / "export"
        assert (job.out / "loss.png").stat().st_size > 1000
    for s in summaries:
        losses = [c[1] for c in s.loss_curve]
        assert s.steps == len(losses) >= 8 and sum(losses[-3:]) / 3 < sum(losses[:3]) / 3, (s.stage, losses)
    assert [s.parent_init["stage"] for s in summaries[1:]] == [1, 2]
