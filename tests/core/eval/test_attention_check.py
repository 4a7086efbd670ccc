"""check_attention: the Fig. 7 diagnostic (does the named object's token get the most attention?) as a number.

Fast tests drive the real tiny predictor on the tiny world with the ground-truth masks and replace only the attention
it returns: attention that follows the named object passes the check, random attention does not (the check can
fail). The slow test measures the full embedded stage-3 model that `make run` trained (read-only; skipped when
there is none): trained attention above chance, a randomly initialised model of the same config not.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from orion_core.eval.attention_check import (AttentionCheck, bootstrap_interval, check_attention, named_noun,
                                             token_objects, wilson_interval)
from orion_core.eval.benchmarks import load_items

ROOT = Path(__file__).resolve().parents[3]


class SteeredAttention:
    """The real predictor with its object attention replaced: ``oracle`` puts it all on the token whose label is the
    noun the prompt names (ground-truth mask lists label objects with their nouns), ``random`` draws it at random."""

    def __init__(self, predictor, mode: str, seed: int = 0) -> None:
        self.predictor, self.mode, self.rng = predictor, mode, np.random.default_rng(seed)

    def set_video(self, *args, **kwargs):
        self.predictor.set_video(*args, **kwargs)
        return self

    def figure(self, answer, path=None):
        return self.predictor.figure(answer, path)

    def ask(self, prompt: str, **kwargs):
        answer = self.predictor.ask(prompt, **kwargs)
        n = len(answer.object_attention)
        if self.mode == "random":
            attention = self.rng.dirichlet(np.ones(n))
        else:
            colour = re.search(r"What colour is the (\w+)\?", prompt)
            options = re.findall(r"^\([A-Z]\) (.+)$", prompt, re.M)
            nouns = {colour.group(1)} if colour else {m.split()[-1] for m in options}
            (noun,) = nouns
            attention = np.array([float(label == noun) for label in answer.labels])
        return dataclasses.replace(answer, object_attention=attention.astype(np.float32))


def test_intervals():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_interval(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0) and wilson_interval(10, 10)[0] > 0.69
    assert bootstrap_interval([1.0] * 20) == (1.0, 1.0)
    low, high = bootstrap_interval([0.0, 1.0] * 50)
    assert low < 0.5 < high


def test_named_noun_reads_the_question_or_the_options(tiny_world):
    items = [i for i in load_items("synthetic", tiny_world) if i.kind == "mc"]
    by_task = {i.task: i for i in items}
    assert named_noun(by_task["colour"]) == by_task["colour"].question.removeprefix("What colour is the ").rstrip("?")
    for task in ("static_presence", "brief_presence"):
        if task in by_task:
            assert named_noun(by_task[task]) == by_task[task].answer.split()[-1]
    assert named_noun(next(i for i in items if i.task == "brief_count")) is None  # "How many tents..." is a count


@pytest.mark.parametrize("mode", ["oracle", "random"])
def test_attention_on_the_named_object_passes_and_random_attention_does_not(tiny_predictor, eval_config, tiny_world,
                                                                             mode, tmp_path):
    config = eval_config.with_overrides({"eval.max_new_tokens": 3})
    check = check_attention(SteeredAttention(tiny_predictor, mode), config, root=tiny_world, objects="oracle",
                            figures_dir=tmp_path / "fig", figures=2)
    assert isinstance(check, AttentionCheck) and check.items >= 6
    assert check.items + sum(check.skipped.values()) == sum(
        i.task in ("colour", "static_presence", "brief_presence") for i in load_items("synthetic", tiny_world))
    assert check.skipped["no_match"] == 0 and check.mean_match_iou == 1.0  # ground truth matches itself
    assert 0 < check.chance < 1
    assert check.chance == pytest.approx(np.mean([1 / r["n"] for r in check.records]), abs=1e-4)
    if mode == "oracle":
        assert check.rate == 1.0 and check.hits == check.items and check.above_chance
        assert check.excess_ci[0] > 0
    else:  # attention that ignores the question: the interval holds chance
        assert not check.above_chance and check.rate_ci[0] <= check.chance <= check.rate_ci[1]
    data = check.to_dict()
    assert json.loads(json.dumps(data)) == data and data["above_chance"] == check.above_chance
    assert len(check.figures) == 2 and all(Path(f).stat().st_size > 0 for f in check.figures)


@pytest.mark.slow  # the classical detect-segment-track pipeline on the tiny world's benchmark videos
def test_pipeline_objects_are_matched_to_the_named_object(tiny_predictor, eval_config, tiny_world):
    config = eval_config.with_overrides({"eval.max_new_tokens": 3})
    check = check_attention(tiny_predictor, config, root=tiny_world, objects="pipeline")
    assert check.items + sum(check.skipped.values()) > 0 and check.objects == "pipeline"
    for r in check.records:  # a matched token covers the named object well; its attention is a distribution
        assert r["iou"] >= check.min_iou and 0 <= r["token"] < r["n"] == len(r["attention"])
        assert sum(r["attention"]) == pytest.approx(1.0, abs=1e-3)


def test_tokens_skip_objects_with_no_pixel_on_the_pooled_frames(tiny_world, eval_config):
    from orion_core.contracts.masklist import MaskObject
    from orion_core.eval.model_adapter import oracle_masks

    item = next(i for i in load_items("synthetic", tiny_world) if i.kind == "mc")
    masks = oracle_masks(item, eval_config)
    assert token_objects(masks) == list(range(masks.num_objects))
    off_grid = max(masks.pooled_frames()) + 1  # a frame no token pools
    ghost = MaskObject(label="ghost", key_frame=off_grid, score=1.0, frames=(), rles=())
    masks = dataclasses.replace(masks, objects=(ghost, *masks.objects))
    assert token_objects(masks) == list(range(1, masks.num_objects))


# ---------------------------------------------------------------- the full embedded model of `make run`
def latest_stage3(store: Path = ROOT / ".orion" / "store" / "stage3_checkpoint") -> Path | None:
    """The export of the stage-3 checkpoint registered last (highest model version) in the user's store."""
    found = []
    for reg in store.glob("*/registration.json"):
        if (reg.parent / "export" / "model.safetensors").is_file():
            found.append((int(json.loads(reg.read_text())["version"]), reg.parent / "export"))
    return max(found)[1] if found else None


@pytest.mark.slow  # ~1 min: 854 items asked of the trained model and of a random one
def test_trained_embedded_model_attends_to_the_named_object_above_chance(tmp_path, record_property):
    import torch

    from orion_core.inference.predictor import OrionPredictor
    from orion_core.model.builders import build_videoorion

    export, world = latest_stage3(), ROOT / "data" / "raw"
    if export is None or not (world / "benchmark_mc.json").is_file():
        pytest.skip("no stage-3 checkpoint or world from `make run` in .orion/store and data/raw")
    torch.set_num_threads(1)
    trained = OrionPredictor.from_checkpoint(export)
    # Evaluation's cached pipeline masks, copied: a miss is computed here, never written into the user's cache.
    cache = ROOT / trained.config.eval.masks_cache
    if cache.is_dir():
        shutil.copytree(cache, tmp_path / "masks")
    config = trained.config.with_overrides({"eval.masks_cache": str(tmp_path / "masks")})
    check = check_attention(trained, config, root=world)
    # Same config, same frozen world-pretrained encoder (model.vision_path), random projectors and LLM.
    random_model = build_videoorion(config, seed=0).eval()
    control = check_attention(OrionPredictor(model=random_model, tokenizer=trained.tokenizer, config=config),
                              config, root=world)
    for name, c in (("trained", check), ("random_init", control)):
        line = (f"{name}: rate {c.rate:.3f} (95% {c.rate_ci[0]:.3f}-{c.rate_ci[1]:.3f}) vs chance {c.chance:.3f} "
                f"over {c.items} items; by task {({t: v['rate'] for t, v in c.by_task.items()})}")
        print(line)
        record_property(f"attention_{name}", json.dumps(c.to_dict(records=False)))
    assert check.items > 500 and control.items == check.items
    # Measured on the `make run` checkpoint of 2026-12-03: 0.197 (0.171-0.225) vs chance 0.163 - above chance, but
    # narrowly; brief_presence (the object only the object tokens show) is below chance (0.056 vs 0.172).
    assert check.above_chance, check.to_dict(records=False)
    # Random weights attend near-uniformly (share == chance): its interval holds chance, so this check can fail.
    assert not control.above_chance, control.to_dict(records=False)
    assert abs(control.share - control.chance) < 0.005
