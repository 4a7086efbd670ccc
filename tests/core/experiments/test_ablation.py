"""The Table 4 protocol (orion_core.experiments.ablation) with a stand-in training callable.

The training job (orion_core.train) is another engineer's; until it lands, ``StandInTrainer`` plays its part:
it "trains" a predictor whose skill on each task is fixed per variant and whose right/wrong pattern depends on
the seed, so the protocol's bookkeeping (pairing, mean and spread, deltas, verdict, files) can be checked.
"""

from __future__ import annotations

import hashlib
import statistics

import pytest

from orion_core.experiments.ablation import ablation_markdown, run_ablation, write_ablation


class StandInPredictor:
    def __init__(self, skill: dict[str, float], seed: int) -> None:
        self.skill, self.seed = skill, seed

    def ask(self, item, prompt):
        draw = int(hashlib.sha256(f"{self.seed}/{item.id}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        right = draw < self.skill.get(item.task, 0.0)
        return f"({chr(ord('A') + (item.answer_idx if right else (item.answer_idx + 1) % len(item.candidates)))})"


class StandInTrainer:
    def __init__(self, video_only: dict[str, float], videoorion: dict[str, float]) -> None:
        self.skills = {False: video_only, True: videoorion}
        self.calls: list[tuple[int, bool, int]] = []

    def __call__(self, config, *, seed, use_objects, out_dir):
        self.calls.append((seed, use_objects, config.train.seed))
        return StandInPredictor(self.skills[use_objects], seed)


STATIC = {"presence": 0.8, "count": 0.8}


def test_object_tokens_that_help_on_dynamics_meet_the_aim(tiny_world, eval_config, tmp_path):
    trainer = StandInTrainer({**STATIC, "direction": 0.2, "motion_state": 0.2, "order": 0.2},
                             {**STATIC, "direction": 1.0, "motion_state": 1.0, "order": 1.0})
    result = run_ablation(trainer, eval_config, out_dir=tmp_path, root=str(tiny_world), progress=False)
    assert trainer.calls == [(s, o, s) for s in (0, 1, 2) for o in (False, True)]  # same seed for both variants
    s = result.summary()
    vo = [run["dynamics"] for run in result.runs["video_only"]]
    assert s["video_only"]["dynamics"]["mean"] == pytest.approx(statistics.fmean(vo), abs=0.01)
    assert s["video_only"]["dynamics"]["std"] == pytest.approx(statistics.stdev(vo), abs=0.01)
    assert s["videoorion"]["dynamics"] == {"mean": 100.0, "std": 0.0, "n": 3}
    gains = [b["dynamics"] - a["dynamics"] for a, b in zip(result.runs["video_only"], result.runs["videoorion"])]
    assert result.gain == pytest.approx(statistics.fmean(gains), abs=0.01) and result.met
    assert "the paper's claim holds" in result.verdict()
    # static tasks: same skill, same seed-dependent draws -> identical per seed, zero delta
    assert s["delta"]["static"] == {"mean": 0.0, "std": 0.0, "n": 3}
    assert result.chance["direction"] == 25.0


def test_a_missed_aim_is_reported_with_its_reasons(tiny_world, eval_config, tmp_path):
    chance_level = {t: 0.25 for t in ("presence", "count", "direction", "motion_state", "order")}
    trainer = StandInTrainer(chance_level, chance_level)
    result = run_ablation(trainer, eval_config.with_overrides({"eval.ablation_seeds": [3, 4]}), out_dir=tmp_path,
                          root=str(tiny_world), progress=False)
    assert result.seeds == [3, 4] and not result.met and result.gain == 0.0
    assert "short of the aim of +10" in result.verdict()
    facts = "\n".join(result.diagnostics())
    assert "video_only: dynamics accuracy" in facts and "named no option" in facts
    paths = write_ablation(result, tmp_path / "report")
    text = paths["markdown"].read_text()
    assert "| **dynamics** |" in text and "Verdict:" in text and "short of the aim" in text
    assert text.count("\n| ") >= len(result.tasks) + 3 + 2  # task rows, 3 summary rows, per-seed rows
    assert paths["chart"].read_bytes()[:4] == b"\x89PNG" and '"met": false' in paths["json"].read_text()
    assert ablation_markdown(result).startswith("# Video-only vs VideoOrion")


def test_world_trainer_data_with_multiple_choice_instructions(tiny_world, tmp_path):
    import json

    from orion_core.experiments.world_trainer import WorldTrainer
    from orion_core.eval.answers import extract_choice

    plain = json.loads(WorldTrainer(world_dir=tiny_world, work_dir=tmp_path / "a").data().read_text())
    records = json.loads(WorldTrainer(world_dir=tiny_world, work_dir=tmp_path / "b", mc_instruct=True).data().read_text())
    added = [r for r in records if r["id"].endswith("_mc")]
    instruct_ids = {r["video_id"] for r in plain if r["split"] == "instruct"}
    assert len(records) == len(plain) + len(added) and {r["video_id"] for r in added} == instruct_ids
    bench = {q["video"] for q in json.loads((tiny_world / "benchmark_mc.json").read_text())}
    assert not bench & {r["video"] for r in added}  # the benchmark's videos are never trained on
    for rec in added:
        turns = rec["conversations"]
        assert [t["from"] for t in turns] == ["human", "gpt"] * (len(turns) // 2)
        assert turns[0]["value"].startswith("<video>\nQuestion: ")
        for human, gpt in zip(turns[::2], turns[1::2]):
            options = [line[4:] for line in human["value"].splitlines() if line[:1] == "(" and line[2:4] == ") "]
            choice = extract_choice(gpt["value"], options)
            assert choice.rule == "option_text" and gpt["value"] == f"({choice.letter}) {options[choice.index]}"
