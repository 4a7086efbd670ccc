"""Does the answer look at the object it is about? The paper's Fig. 7 diagnostic, checked against ground truth.

PAPER.md: "the model can attend to the wrong object token; attention over object tokens is the diagnostic".
:func:`check_attention` turns the diagnostic into a number on the synthetic world's benchmark:

1. take the multiple-choice items whose question names exactly one object of the video (:data:`NAMED_TASKS`:
   ``colour`` "What colour is the <noun>?", ``static_presence`` / ``brief_presence`` whose options all share one
   noun), asked in the benchmark's own prompt - the form the model was trained on (``contracts/prompts.py``);
2. find that object in the annotation (``<world>/annotations/<video_id>.json``): the one object with the noun;
   items whose noun is on several objects (a brief group of 2-3) are skipped and counted (``several_named``);
3. find its object token: the pipeline object (the masks evaluation gives the model) with the highest mask IoU
   against the ground truth, summed over the frames the tokens pool (``MaskList.pooled_frames``); below
   ``min_iou`` the pipeline missed it and the item is skipped and counted (``no_match``);
4. ask (``OrionPredictor.ask``: last-layer attention of the prompt's last position and the answer's tokens over
   the object tokens, normalised to one) and score a *hit* when the named object's token gets the most attention.

The result (:class:`AttentionCheck`, plain JSON through ``to_dict``): the hit rate, chance = mean(1/N) over the
same items (N object tokens each), a Wilson 95% interval of the rate and a bootstrap 95% interval of the rate's
excess over chance (per-item hit - 1/N, items resampled), per task and by whether the answer was right.
``figures_dir`` also saves the first few items' attention pictures (``OrionPredictor.figure``).

    check = check_attention("runs/stage3/export", config)
    check.rate, check.chance, check.rate_ci, check.above_chance     # 0.197, 0.163, (0.171, 0.225), True
    check.to_dict(records=False)      # plain JSON; measured: benchmarks/results/attention_diagnostic.md

``OrionAnswerer``'s pipeline masks (and their cache) are reused so the tokens are exactly the ones evaluation gives.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from orion_core.config import OrionConfig

from .answers import extract_choice
from .items import Item, Source, fetch
from .prompts import prompt_for

NAMED_TASKS = ("colour", "static_presence", "brief_presence")
"""Synthetic-world tasks whose question names one noun: ``colour`` in the question, the presence tasks in options
that all share it (``red tent``, ``blue tent``...)."""
MIN_IOU = 0.5
"""A pipeline object is the named object's token when its mask IoU with the ground truth reaches this."""


@dataclass
class AttentionCheck:
    """How often the named object's token got the most attention (see the module doc)."""

    items: int
    """Items scored (named exactly one object, and the pipeline had a token for it)."""
    hits: int
    rate: float
    """hits / items."""
    chance: float
    """mean(1 / N) over the scored items: the rate of a model whose attention ignores which object is named."""
    rate_ci: tuple[float, float]
    """Wilson 95% interval of ``rate``."""
    excess_ci: tuple[float, float]
    """Bootstrap 95% interval of rate - chance (per-item hit - 1/N, items resampled)."""
    share: float
    """Mean attention the named object's token received (chance: the same mean(1/N))."""
    share_excess_ci: tuple[float, float]
    """Bootstrap 95% interval of share - chance (per-item attention - 1/N)."""
    mean_objects: float
    """Mean object tokens per scored item."""
    skipped: dict[str, int]
    """Why items were not scored: ``several_named`` (the noun is on 2+ objects), ``none_named`` (on none),
    ``no_match`` (no pipeline object with IoU >= min_iou), ``no_objects`` (the pipeline found none)."""
    by_task: dict[str, dict[str, Any]]
    """Per task: items, hits, rate, chance."""
    by_correct: dict[str, dict[str, Any]]
    """Split by whether the answer chose the right option (``right`` / ``wrong``): items, hits, rate, chance."""
    objects: str
    """Where the object masks came from: ``pipeline`` or ``oracle``."""
    split_matches: int
    """Scored items where 2+ tokens reached ``min_iou`` (the pipeline split or duplicated the object); the best
    IoU's token is the one that counts as a hit."""
    min_iou: float
    mean_match_iou: float
    records: list[dict[str, Any]] = field(default_factory=list)
    """One dict per scored item: id, task, named (short name), token, n, attention (rounded), hit, iou, answer,
    correct."""
    figures: list[str] = field(default_factory=list)
    """Attention pictures written (``figures_dir``), first scored items first."""
    seconds: float = 0.0

    @property
    def above_chance(self) -> bool:
        """Whether the rate's 95% interval lies wholly above chance."""
        return self.rate_ci[0] > self.chance

    def to_dict(self, *, records: bool = True) -> dict[str, Any]:
        data = asdict(self)
        for key in ("rate_ci", "excess_ci", "share_excess_ci"):
            data[key] = list(data[key])
        data["above_chance"] = self.above_chance
        if not records:
            data.pop("records")
        return json.loads(json.dumps(data))  # plain JSON types only


# ---------------------------------------------------------------- statistics
def wilson_interval(hits: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval of a binomial proportion (``(0, 1)`` for n = 0)."""
    if n == 0:
        return 0.0, 1.0
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def bootstrap_interval(values: Sequence[float], *, resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile 95% interval of the mean of ``values`` (items resampled with replacement; seeded)."""
    v = np.asarray(values, dtype=np.float64)
    if len(v) == 0:
        return 0.0, 0.0
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, len(v), size=(resamples, len(v)))].mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(rows)
    hits = sum(r["hit"] for r in rows)
    return {"items": n, "hits": hits, "rate": round(hits / n, 4) if n else None,
            "chance": round(sum(1 / r["n"] for r in rows) / n, 4) if n else None,
            "share": round(sum(r["attention"][r["token"]] for r in rows) / n, 4) if n else None}


# ---------------------------------------------------------------- which object is named, which token is it
def named_noun(item: Item) -> str | None:
    """The noun the item's question is about: ``colour`` names it in the question ("What colour is the star?"), the
    presence tasks in options that all end with it ("red tent", "blue tent"). None when there is no single noun."""
    if item.task == "colour":
        stem = item.question.strip().rstrip("?").strip()
        prefix = "What colour is the "
        return stem[len(prefix):] if stem.startswith(prefix) else None
    if item.task in ("static_presence", "brief_presence"):
        nouns = {c.strip().split(" ", 1)[-1] for c in item.candidates}
        return nouns.pop() if len(nouns) == 1 else None
    return None


def named_objects(item: Item, annotation: dict[str, Any]) -> list[dict[str, Any]]:
    """The annotation's objects carrying the item's noun (one for a usable item)."""
    noun = named_noun(item)
    return [o for o in annotation["objects"] if noun is not None and o["name"] == noun]


def _truth_mask(annotation: dict[str, Any], track_id: int, frame: int) -> np.ndarray:
    from orion_core.contracts.masklist import decode_rle

    truth = annotation["masks"][str(track_id)]
    try:
        return decode_rle(truth["rle"][truth["frames"].index(int(frame))])
    except ValueError:
        return np.zeros((int(annotation["height"]), int(annotation["width"])), dtype=bool)


def mask_iou(obj: Any, annotation: dict[str, Any], track_id: int, frames: Sequence[int]) -> float:
    """IoU of a pipeline ``MaskObject`` with ground-truth object ``track_id``: intersections summed over ``frames``
    (the frames the object token pools) over the unions summed there. Masks at another size are resized (nearest)."""
    import cv2

    inter = union = 0
    for f in frames:
        truth = _truth_mask(annotation, track_id, f)
        pred = obj.mask(int(f))
        if pred is None:
            pred = np.zeros_like(truth)
        elif pred.shape != truth.shape:
            pred = cv2.resize(pred.astype(np.uint8), truth.shape[::-1], interpolation=cv2.INTER_NEAREST) > 0
        inter += int(np.logical_and(pred, truth).sum())
        union += int(np.logical_or(pred, truth).sum())
    return inter / union if union else 0.0


def token_objects(masks: Any) -> list[int]:
    """Indices of the mask list's objects that become object tokens, in token order: the predictor drops an object
    with no pixel on any pooled frame (``OrionPredictor.set_video``), so the attention follows this list."""
    frames = masks.pooled_frames()
    return [k for k, obj in enumerate(masks.objects)
            if any((m := obj.mask(f)) is not None and m.any() for f in frames)]


def match_token(masks: Any, annotation: dict[str, Any], track_id: int, *,
                min_iou: float = MIN_IOU) -> tuple[int | None, float, int]:
    """``(token, IoU, tokens matching)``: the object token (index into :func:`token_objects`) whose mask best
    matches ground-truth object ``track_id`` (None without tokens), its IoU, and how many tokens reach ``min_iou``
    (more than one: the pipeline split or duplicated the object)."""
    frames = masks.pooled_frames()
    tokens = token_objects(masks)
    ious = [mask_iou(masks.objects[k], annotation, track_id, frames) for k in tokens]
    if not ious:
        return None, 0.0, 0
    best = int(np.argmax(ious))
    return best, float(ious[best]), sum(v >= min_iou for v in ious)


# ---------------------------------------------------------------- the check
def check_attention(model: Any, config: OrionConfig, *, root: str | Path | Source | None = None,
                    tasks: Sequence[str] = NAMED_TASKS, limit: int | None = None, min_iou: float = MIN_IOU,
                    objects: str = "pipeline",
                    figures_dir: str | Path | None = None, figures: int = 3, max_new_tokens: int | None = None,
                    device: str = "cpu", seed: int = 0, progress: bool = False) -> AttentionCheck:
    """Hit rate of the named object's token among the object tokens (module doc) for ``model`` (a checkpoint folder
    or an ``OrionPredictor``) on the synthetic benchmark at ``root`` (default ``data.source``).

    ``limit``: the first ``limit`` items of ``tasks`` (file order: whole videos, all their tasks) are considered;
    skipped ones count against it. ``objects``: ``pipeline`` (detect-segment-track's masks, cached under
    ``eval.masks_cache``, as evaluation computes them) or ``oracle`` (the world's ground-truth masks: one token per
    object, so the named token is never missed or duplicated). ``figures``: how many of the first scored items get
    a picture in ``figures_dir``.
    """
    from tqdm import tqdm

    from .benchmarks import load_items
    from .model_adapter import OrionAnswerer, oracle_masks
    from .run import _source

    if objects not in ("pipeline", "oracle"):
        raise ValueError(f"objects must be pipeline or oracle, got {objects!r}")
    start = time.perf_counter()
    if isinstance(model, (str, Path)):
        from orion_core.inference.predictor import OrionPredictor

        model = OrionPredictor.from_checkpoint(model, device=device)
    source = _source(root, "synthetic", config)
    items = [it for it in load_items("synthetic", source) if it.kind == "mc" and it.task in tasks]
    items = items[:limit] if limit is not None else items
    # The adapter's cached pipeline masks: the same objects evaluation gives the model for these videos.
    answerer = OrionAnswerer(predictor=model, config=config, objects="pipeline", device=device)
    budget = max_new_tokens or config.eval.max_new_tokens
    skipped = {"several_named": 0, "none_named": 0, "no_match": 0, "no_objects": 0}
    rows: list[dict[str, Any]] = []
    drawn: list[str] = []
    current: str | None = None
    masks = tokens = annotation = None
    for item in tqdm(items, desc="attention check", unit="item", disable=not progress):
        if item.video != current:
            current = item.video
            video_id = item.extra["video_id"]
            annotation = json.loads(fetch(source.uri(f"annotations/{video_id}.json"),
                                          endpoint_url=source.endpoint_url).read_text())
            path = fetch(item.video, endpoint_url=source.endpoint_url)
            if objects == "oracle":
                masks = oracle_masks(item, config, endpoint_url=source.endpoint_url)
            else:
                masks = answerer._pipeline_masks(path)
            tokens = token_objects(masks)
            model.set_video(str(path), masks=masks)
        named = named_objects(item, annotation)
        if len(named) != 1:
            skipped["several_named" if named else "none_named"] += 1
            continue
        if not tokens:
            skipped["no_objects"] += 1
            continue
        token, iou, close = match_token(masks, annotation, named[0]["track_id"], min_iou=min_iou)
        if token is None or iou < min_iou:
            skipped["no_match"] += 1
            continue
        answer = model.ask(prompt_for(item), max_new_tokens=budget)
        attention = np.asarray(answer.object_attention, dtype=np.float64)
        if len(attention) != len(tokens) or list(answer.labels) != [masks.objects[k].label for k in tokens]:
            raise RuntimeError(f"{item.id}: the predictor made {len(attention)} object tokens "
                               f"({answer.labels}) where the mask list gives {len(tokens)}: token order unknown")
        choice = extract_choice(answer.text, item.candidates).index
        top = int(np.argmax(attention))
        rows.append({"id": item.id, "task": item.task, "named": f"{named[0]['colour']} {named[0]['name']}",
                     "token": token, "top": top, "n": len(attention), "hit": top == token,
                     "attention": [round(float(a), 4) for a in attention], "iou": round(iou, 4),
                     "tokens_matching": close, "answer": answer.text,
                     "correct": choice is not None and choice == item.answer_idx})
        if figures_dir is not None and len(drawn) < figures:
            import matplotlib.pyplot as plt

            out = Path(figures_dir)
            out.mkdir(parents=True, exist_ok=True)
            target = out / f"attention_{len(drawn):02d}_{item.id}.png"
            # the predictor's picture (as `orion ask --figure` saves it): masks on the frame + attention bar per token
            plt.close(model.figure(answer, target))
            drawn.append(str(target))
    n = len(rows)
    hits = sum(r["hit"] for r in rows)
    excess = [float(r["hit"]) - 1.0 / r["n"] for r in rows]
    share_excess = [r["attention"][r["token"]] - 1.0 / r["n"] for r in rows]
    return AttentionCheck(
        items=n, hits=hits, rate=round(hits / n, 4) if n else 0.0,
        chance=round(float(np.mean([1.0 / r["n"] for r in rows])), 4) if n else 0.0,
        rate_ci=tuple(round(v, 4) for v in wilson_interval(hits, n)),
        excess_ci=tuple(round(v, 4) for v in bootstrap_interval(excess, seed=seed)),
        share=round(float(np.mean([r["attention"][r["token"]] for r in rows])), 4) if n else 0.0,
        share_excess_ci=tuple(round(v, 4) for v in bootstrap_interval(share_excess, seed=seed)),
        mean_objects=round(float(np.mean([r["n"] for r in rows])), 3) if n else 0.0,
        skipped=skipped,
        by_task={t: _summary([r for r in rows if r["task"] == t]) for t in tasks},
        by_correct={"right": _summary([r for r in rows if r["correct"]]),
                    "wrong": _summary([r for r in rows if not r["correct"]])},
        objects=objects, split_matches=sum(r["tokens_matching"] > 1 for r in rows), min_iou=min_iou,
        mean_match_iou=round(float(np.mean([r["iou"] for r in rows])), 4) if n else 0.0,
        records=rows, figures=drawn, seconds=round(time.perf_counter() - start, 2))


# ---------------------------------------------------------------- for benchmark_scores
REPORT_FILE = "attention.json"
FIGURES_DIR = "attention"


def applies(benchmark: str, config: OrionConfig) -> bool:
    """The check needs the synthetic world's ground truth and object tokens made from the asked video's own masks
    (``eval.objects`` pipeline or oracle; ``none`` has no tokens, ``shuffled`` another video's)."""
    return benchmark == "synthetic" and config.eval.objects in ("pipeline", "oracle")


def write_attention_report(model: Any, benchmark: str, config: OrionConfig, out_dir: str | Path, *,
                           root: str | Path | Source | None = None, figures: int = 3,
                           device: str = "cpu") -> dict[str, Any] | None:
    """Run :func:`check_attention` with evaluation's object source and write ``out_dir/attention.json`` (summary and
    per-item records) and ``out_dir/attention/*.png`` (the first ``figures`` items' pictures). Returns the summary
    (``to_dict(records=False)``, figure paths relative to ``out_dir``), or None where the check does not apply
    (:func:`applies`)."""
    if not applies(benchmark, config):
        return None
    out = Path(out_dir)
    check = check_attention(model, config, root=root, objects=config.eval.objects, figures_dir=out / FIGURES_DIR,
                            figures=figures, device=device)
    check.figures = [str(Path(f).relative_to(out)) for f in check.figures]
    from orion_core.contracts.atomic import write_json_atomic

    write_json_atomic(out / REPORT_FILE, check.to_dict(), indent=1)
    return check.to_dict(records=False)


def read_attention_report(out_dir: str | Path) -> dict[str, Any] | None:
    """The summary :func:`write_attention_report` left in ``out_dir`` (None when there is none)."""
    path = Path(out_dir) / REPORT_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    data.pop("records", None)
    return data


def attention_metrics(summary: dict[str, Any]) -> dict[str, float]:
    """Flat metrics of a summary for MLflow beside ``EvalResult.metrics()`` (``attention/rate``, ...)."""
    return {"attention/rate": float(summary["rate"]), "attention/chance": float(summary["chance"]),
            "attention/rate_ci_low": float(summary["rate_ci"][0]),
            "attention/rate_ci_high": float(summary["rate_ci"][1]),
            "attention/share": float(summary["share"]), "attention/items": float(summary["items"])}
