"""Score a model on one benchmark: ``evaluate(...) -> EvalResult``; ``write_result`` saves it.

    result = evaluate("runs/stage3", "synthetic", config)            # a checkpoint folder
    result = evaluate(my_predictor, "mvbench", config, limit=20)       # anything with ask(item, prompt) -> str
    result.metrics()          # flat {"mc/accuracy": 44.5, "mc/task/direction": 51.0, ...} for MLflow
    write_result(result, "runs/eval/synthetic")                       # scores.json, predictions.jsonl, PNG

Per item: the prompt (:mod:`.prompts`), the model's text, the option it chose (:mod:`.answers`) or the
judge's verdict (:mod:`.judge`), whether it was right, its error if the input was bad, and its time.
Items whose input is bad (unreadable video, pipeline failure, a prompt too long for the model) are recorded
with their reason and count as wrong; any other exception is a bug and propagates.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from tqdm import tqdm

from orion_core.config import OrionConfig

from .answers import extract_choice
from .benchmarks import BENCHMARKS, load_items
from .items import BenchmarkError, Item, Source, fetch
from .judge import Judge, build_judge
from .metrics import caption_metrics, judge_summary, mc_summary, multi_binary
from .model_adapter import OrionAnswerer, Predictor, Referrer
from .prompts import prompt_for


def recorded_errors() -> tuple[type[BaseException], ...]:
    """Per-item input failures that are recorded while the evaluation goes on."""
    from orion_core.model.template import TemplateError
    from orion_core.pipeline.errors import PipelineError
    from orion_core.contracts.masklist import MaskListError
    from orion_core.video.errors import VideoError

    return VideoError, PipelineError, MaskListError, TemplateError, BenchmarkError


@dataclass
class EvalResult:
    benchmark: str
    source: str
    """Where the items were read (local folder or s3:// prefix)."""
    model: dict[str, Any]
    """What answered (checkpoint path, predictor class, object source)."""
    records: list[dict[str, Any]]
    """One dict per item: id, kind, task, groups, prompt, prediction, choice, rule, correct, judgement, error,
    seconds."""
    scores: dict[str, Any]
    """Per kind: ``mc`` (overall, by_task, by_<group>, answer_rules), ``multi_binary`` (TemporalBench),
    ``open`` (judge aggregates), ``referring`` (caption metrics)."""
    counts: dict[str, int]
    """items, per kind, failed, skipped_unlabelled."""
    timing: dict[str, float]
    """load_s, predict_s, judge_s, metrics_s, total_s, per_item_s."""
    config_digest: str = ""
    notes: list[str] = field(default_factory=list)

    def metrics(self) -> dict[str, float]:
        """Flat numeric headline metrics (``mc/accuracy``, ``mc/task/<task>``, ``open/score``, ``referring/CIDEr``)."""
        out: dict[str, float] = {}
        mc = self.scores.get("mc")
        if mc:
            out["mc/accuracy"] = mc["overall"]["accuracy"]
            out["mc/task_mean"] = mc["task_mean"]
            out.update({f"mc/task/{t}": row["accuracy"] for t, row in mc["by_task"].items()})
        ml = self.scores.get("mc_likelihood")
        if ml:
            out["mc_likelihood/accuracy"] = ml["overall"]["accuracy"]
            out.update({f"mc_likelihood/task/{t}": row["accuracy"] for t, row in ml["by_task"].items()})
        for name, summary in (("mc", mc), ("mc_likelihood", ml)):
            for key, table in (summary or {}).items():
                if key.startswith("by_") and key not in ("by_task",) and isinstance(table, dict):
                    out.update({f"{name}/{key[3:]}/{g}": row["accuracy"] for g, row in table.items()
                                if isinstance(row, dict) and "accuracy" in row})
        mb = self.scores.get("multi_binary")
        if mb:
            out["mc/binary"] = mb["binary"]["accuracy"]
            out["mc/multi_binary"] = mb["multi_binary"]["accuracy"]
        op = self.scores.get("open")
        if op:
            out.update({"open/accuracy": op["overall"]["accuracy"], "open/score": op["overall"]["score"],
                        "open/unparseable": op["overall"]["unparseable"]})
        ref = self.scores.get("referring")
        if ref:
            out.update({f"referring/{k}": v for k, v in ref.items() if isinstance(v, (int, float)) and k != "count"})
        out["failed"] = self.counts.get("failed", 0)
        return {k: float(v) for k, v in out.items() if v is not None}

    def to_dict(self, *, predictions: bool = True) -> dict[str, Any]:
        data = {"benchmark": self.benchmark, "source": self.source, "model": self.model, "scores": self.scores,
                "metrics": self.metrics(), "counts": self.counts, "timing": self.timing,
                "config_digest": self.config_digest, "notes": self.notes}
        if predictions:
            data["records"] = self.records
        return data


def default_source(benchmark: str, config: OrionConfig) -> Source:
    """The synthetic world at ``data.source``; published benchmarks at ``<eval.data_root>/<benchmark>``."""
    endpoint = config.eval.s3_endpoint_url or config.data.s3_endpoint_url
    if benchmark == "synthetic":
        return Source(config.data.source, endpoint_url=endpoint)
    return Source(f"{config.eval.data_root.rstrip('/')}/{benchmark}", endpoint_url=endpoint)


def _source(root: str | Path | Source | None, benchmark: str, config: OrionConfig) -> Source:
    if isinstance(root, Source):
        return root
    if root is None:
        return default_source(benchmark, config)
    return Source(str(root), endpoint_url=config.eval.s3_endpoint_url or config.data.s3_endpoint_url)


def as_predictor(model: Any, config: OrionConfig, *, objects: str | None = None, device: str = "cpu") -> Any:
    """A checkpoint folder, an ``OrionPredictor`` or any :class:`Predictor` -> something with ``ask``."""
    if isinstance(model, (str, Path)):
        return OrionAnswerer.from_checkpoint(model, config=config, objects=objects, device=device)
    if hasattr(model, "set_video"):  # an OrionPredictor
        return OrionAnswerer(predictor=model, config=config, objects=objects, device=device)
    if isinstance(model, (Predictor, Referrer)):
        return model
    raise TypeError(f"cannot evaluate {type(model).__name__}: give a checkpoint folder, an OrionPredictor, or an "
                    f"object with ask(item, prompt) -> str")


def select_items(items: Sequence[Item], config: OrionConfig, *, kinds: Sequence[str] | None,
                 limit: int | None) -> tuple[list[Item], int]:
    """Items to score (kind filter, hidden answers skipped when ``eval.labelled_only``), and how many were skipped."""
    chosen = [it for it in items if kinds is None or it.kind in kinds]
    skipped = 0
    if config.eval.labelled_only:
        kept = [it for it in chosen if it.labelled]
        skipped, chosen = len(chosen) - len(kept), kept
    return (chosen[:limit] if limit is not None else chosen), skipped


def evaluate(model: Any, benchmark: str, config: OrionConfig, *, root: str | Source | None = None,
             limit: int | None = None, progress: bool = True, judge: Judge | None = None,
             objects: str | None = None, kinds: Sequence[str] | None = None, device: str = "cpu") -> EvalResult:
    """Score ``model`` (checkpoint folder, OrionPredictor or Predictor) on ``benchmark``; see the module doc.

    ``root`` overrides where the benchmark is read (default :func:`default_source`); ``objects`` overrides
    ``eval.objects`` for checkpoints; ``kinds`` restricts item kinds (e.g. ``["mc"]``)."""
    if benchmark not in BENCHMARKS:
        raise BenchmarkError(f"unknown benchmark {benchmark!r}; known: {sorted(BENCHMARKS)}")
    start = time.perf_counter()
    source = _source(root, benchmark, config)
    items, skipped = select_items(load_items(benchmark, source), config, kinds=kinds, limit=limit)
    load_s = time.perf_counter() - start
    answerer = as_predictor(model, config, objects=objects, device=device)
    if getattr(answerer, "objects", None) == "shuffled":
        from orion_core.contracts.donors import object_donors

        answerer.donors = object_donors([it.video for it in items if it.kind == "mc"], seed=config.train.seed)
    errors = recorded_errors()
    records: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    try:
        for item in tqdm(items, desc=f"eval {benchmark}", unit="item", disable=not progress):
            records.append(_answer(answerer, item, config, errors))
    finally:
        if answerer is not model and hasattr(answerer, "close"):
            answerer.close()
    predict_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    open_records = [r for r in records if r["kind"] == "open" and r["error"] is None]
    notes: list[str] = []
    if open_records:
        judge = judge if judge is not None else build_judge(config.eval, device=device)
        if judge is None:
            notes.append("open-ended items were not judged (eval.judge=none): no accuracy/score")
        for r in tqdm(open_records, desc="judge", unit="item", disable=not progress or judge is None):
            if judge is not None:
                r["judgement"] = judge.judge(r["question"], r["answer"], r["prediction"]).to_dict()
    judge_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    scores = _scores(records, items)
    metrics_s = time.perf_counter() - t0
    total = time.perf_counter() - start
    counts = {"items": len(records), "failed": sum(r["error"] is not None for r in records),
              "skipped_unlabelled": skipped}
    for kind in ("mc", "open", "referring"):
        counts[kind] = sum(r["kind"] == kind for r in records)
    describe = answerer.describe() if hasattr(answerer, "describe") else {"predictor": type(answerer).__name__}
    if isinstance(model, (str, Path)):
        describe["checkpoint"] = str(model)
    if getattr(answerer, "object_counts", None):
        describe["mean_objects"] = round(sum(answerer.object_counts) / len(answerer.object_counts), 3)
    if getattr(answerer, "objects_dropped", None):  # left out by the object-token cap
        describe["objects_dropped_by_cap"] = int(sum(answerer.objects_dropped))
    timing = {"load_s": round(load_s, 3), "predict_s": round(predict_s, 3), "judge_s": round(judge_s, 3),
              "metrics_s": round(metrics_s, 3), "total_s": round(total, 3),
              "per_item_s": round(predict_s / len(records), 4) if records else 0.0}
    return EvalResult(benchmark=benchmark, source=source.root, model=describe, records=records, scores=scores,
                      counts=counts, timing=timing, config_digest=config.digest(), notes=notes)


def _answer(answerer: Any, item: Item, config: OrionConfig, errors: tuple) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": item.id, "kind": item.kind, "task": item.task, "groups": dict(item.groups), "question": item.question,
        "candidates": list(item.candidates), "answer": item.answer, "answer_idx": item.answer_idx,
        "prompt": None, "prediction": None, "choice": None, "rule": None, "correct": False, "judgement": None,
        "error": None, "detail": None, "seconds": 0.0,
        "extra": {k: v for k, v in item.extra.items() if k in ("group", "box", "video_id", "start", "end")},
    }
    t0 = time.perf_counter()
    try:
        subtitles = None
        if config.eval.subtitles and item.extra.get("subtitles"):
            from .benchmarks.videomme import subtitle_text

            subtitles = subtitle_text(fetch(item.extra["subtitles"]).read_text(encoding="utf-8", errors="replace"))
        record["prompt"] = prompt = prompt_for(item, subtitles=subtitles)
        if item.kind == "referring":
            if not isinstance(answerer, Referrer):
                raise TypeError(f"{type(answerer).__name__} cannot answer referring items (no refer(item, prompt))")
            text = answerer.refer(item, prompt)
        else:
            text = answerer.ask(item, prompt)
        record["prediction"] = text = str(text)
        if item.kind == "mc":
            choice = extract_choice(text, item.candidates)
            record.update(choice=choice.index, rule=choice.rule,
                          correct=choice.index is not None and choice.index == item.answer_idx)
            if hasattr(answerer, "option_scores"):  # scored a second way: the likelihood of each option
                scores = [round(float(v), 4) for v in answerer.option_scores(item, prompt)]
                best = max(range(len(scores)), key=scores.__getitem__) if scores else None
                record.update(option_logprobs=scores, likelihood_choice=best,
                              likelihood_correct=best is not None and best == item.answer_idx)
    except errors as exc:
        record.update(error=getattr(exc, "reason", type(exc).__name__), detail=str(exc)[:500])
    record["seconds"] = round(time.perf_counter() - t0, 4)
    return record


def _scores(records: list[dict[str, Any]], items: Sequence[Item]) -> dict[str, Any]:
    scores: dict[str, Any] = {}
    mc = [r for r in records if r["kind"] == "mc"]
    if mc:
        keys = sorted({k for r in mc for k in r["groups"]})
        scores["mc"] = mc_summary(mc, group_keys=keys)
        if any("likelihood_correct" in r for r in mc):
            scored = [{**r, "correct": bool(r.get("likelihood_correct")), "rule": "likelihood"} for r in mc]
            scores["mc_likelihood"] = mc_summary(scored, group_keys=keys)
        if any("group" in r["extra"] for r in mc):
            scores["multi_binary"] = multi_binary(mc)
    opened = [r for r in records if r["kind"] == "open"]
    if opened:
        scores["open"] = judge_summary(opened)
    ref = [r for r in records if r["kind"] == "referring"]
    if ref:
        # a failed item is scored as an empty caption (0), never dropped
        scores["referring"] = caption_metrics({r["id"]: [r["answer"]] for r in ref},
                                              {r["id"]: r["prediction"] or "" for r in ref})
        scores["referring"]["failed"] = sum(r["error"] is not None for r in ref)
    return scores


def write_result(result: EvalResult, out_dir: str | Path) -> dict[str, Path]:
    """Write ``scores.json`` (everything but the per-item records), ``predictions.jsonl`` and a bar chart per
    category (``by_category.png``); returns their paths."""
    from .report import write_result as _write

    return _write(result, out_dir)
