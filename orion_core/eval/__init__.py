"""Evaluation: benchmark loaders, answer extraction, the open-ended judge, referring metrics, pipeline quality.

    from orion_core.eval import evaluate, write_result
    result = evaluate("runs/stage3", "synthetic", config)    # checkpoint, OrionPredictor or any Predictor
    write_result(result, "runs/eval/synthetic")

Modules: ``items`` (Item, Source), ``benchmarks/`` (one loader per published format), ``answers`` (the MC
extraction rule), ``prompts``, ``judge`` (Video-ChatGPT's protocol; local or HTTP judge), ``metrics``,
``model_adapter`` (the Predictor protocol and the OrionPredictor adapter), ``run`` (evaluate), ``report``
(files and chart), ``pipeline_quality`` (detect-segment-track against the synthetic world's ground truth).
The Table 4 ablation and the ``orion eval`` command train as well, so they live above, in
:mod:`orion_core.experiments`.
Submodules import on first use, so ``from orion_core.eval import extract_choice`` stays light.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "Item": "items", "Source": "items", "BenchmarkError": "items",
    "BENCHMARKS": "benchmarks", "load_items": "benchmarks",
    "extract_choice": "answers", "Extraction": "answers",
    "Judge": "judge", "Judgement": "judge", "JudgeError": "judge", "build_judge": "judge",
    "parse_judgement": "judge", "HTTPJudge": "judge", "TransformersJudge": "judge",
    "caption_metrics": "metrics", "mc_summary": "metrics", "judge_summary": "metrics", "multi_binary": "metrics",
    "Predictor": "model_adapter", "Referrer": "model_adapter", "OrionAnswerer": "model_adapter",
    "EvalResult": "run", "evaluate": "run", "write_result": "run",
    "evaluate_on_world": "pipeline_quality", "score_against_ground_truth": "pipeline_quality",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_LAZY)
