"""Benchmark fixtures assembled into their published layout, deterministic predictors, a tiny VideoOrion."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "benchmarks"


def assemble(name: str, dest: Path) -> Path:
    """Copy fixture ``name``'s annotation files to ``dest`` and put the tiny media at the published paths."""
    src = FIXTURES / name
    for path in src.rglob("*"):
        if path.is_file() and path.name != "media.json":
            target = dest / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    for rel, entry in json.loads((src / "media.json").read_text()).items():
        target, origin = dest / rel, FIXTURES / "media" / entry
        target.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            shutil.copytree(origin, target)
        else:
            shutil.copy2(origin, target)
    return dest


@pytest.fixture
def bench_root(tmp_path):
    """``bench_root("mvbench")`` -> a folder laid out as the published benchmark."""
    def make(name: str) -> Path:
        return assemble(name, tmp_path / name)
    return make


class OracleAnswerer:
    """Answers every multiple-choice item with its right letter in a chosen style (scoring path tests);
    open-ended items with the reference answer; referring items with the reference caption."""

    def __init__(self, style: str = "({letter})") -> None:
        self.style = style
        self.asked: list[str] = []

    def ask(self, item, prompt: str) -> str:
        self.asked.append(prompt)
        if item.kind == "mc":
            letter = chr(ord("A") + item.answer_idx)
            return self.style.format(letter=letter, text=item.candidates[item.answer_idx])
        return item.answer

    def refer(self, item, prompt: str) -> str:
        return item.answer


class ConstantAnswerer:
    """Always says the same thing."""

    def __init__(self, text: str) -> None:
        self.text = text

    def ask(self, item, prompt: str) -> str:
        return self.text

    def refer(self, item, prompt: str) -> str:
        return self.text


@pytest.fixture
def eval_config(tmp_path):
    from orion_core.config import load_preset

    return load_preset("tiny-cpu", ["video.t_o=6", "video.t_o_long=6", "video.n_instruct=8",
                                    f"eval.masks_cache={tmp_path / 'masks'}"])


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny models on a shared 2-core machine: one intra-op thread is ~50x faster than two contending ones
    (measured 0.03 s vs 1.4 s per forward+backward of a 32-wide LM); restored after each test."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def tiny_predictor(eval_config):
    """An OrionPredictor over a tiny random-weight VideoOrion (the tiny-cpu sizes, 6 object frames)."""
    from orion_core.model.builders import build_videoorion
    from orion_core.inference.predictor import OrionPredictor
    from orion_core.model.tokenizer import build_tokenizer

    model = build_videoorion(eval_config, seed=0).eval()
    return OrionPredictor(model=model, tokenizer=build_tokenizer(eval_config.model), config=eval_config)
