"""Why do learned object projectors leave the colour and static-presence questions near chance, when plain average
pooling answers them? Reads what `make run` and the projectors table (`make experiment NAME=projectors`) made; trains
nothing.

    .venv/bin/python benchmarks/projector_diagnosis.py                 # -> benchmarks/results/object_projector_kinds.md
    .venv/bin/python benchmarks/projector_diagnosis.py --variants videoorion projector_avg --out /tmp/d.md

Three measurements per variant (its newest ``experiment_run`` checkpoint and ``experiment_scores`` predictions):

1. **Accuracy per task** (multiple choice by likelihood) and the **mean training loss** over stage 3's last 60 logged
   steps: does the variant fit its training questions, and do the benchmark's follow?
2. **Which colour a wrong answer names.** Every static-presence option is a colour on some object of the video (only
   the noun tells them apart), and so are 59% of the colour question's wrong options. A wrong answer that names a
   colour of the video although no object of that noun has it means the model saw the colours but did not bind the
   colour to the noun the question names.
3. **Is the noun still in the token?** A linear probe (multinomial logistic regression, 80/20 split, fixed seed)
   predicting each object's noun (the classical tagger's label in the feature cache) from the time-averaged,
   mask-pooled encoder features, and from the variant's object tokens made of the same features (non-temporal kinds
   only). Held-out accuracy: how much of the noun the projector keeps where a linear reader can find it. Beside it,
   the mean cosine similarity of random pairs of object tokens (how alike the tokens the LLM must choose among are).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results_file import write_keeping_reading  # noqa: E402
from orion_core.model.checkpoint import load_checkpoint  # noqa: E402

DEFAULT_VARIANTS = ("videoorion", "no_stage2", "projectors_frozen", "projector_linear", "projector_attention",
                    "projector_lstm", "projector_avg", "projector_mlp_residual", "video_only")
TASKS = ("colour", "static_presence", "brief_presence", "brief_count")
MEAN_KINDS = ("mlp", "linear", "avg", "mlp_residual")


def newest(folder: Path, pattern: str) -> Path | None:
    found = sorted(folder.glob(pattern), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def task_accuracy(predictions: Path) -> dict[str, float]:
    rows = [json.loads(line) for line in predictions.read_text().splitlines() if line.strip()]
    by_task: dict[str, list[bool]] = {}
    for r in rows:
        if r["kind"] == "mc":
            by_task.setdefault(r["task"], []).append(bool(r["likelihood_correct"]))
    return {t: 100 * sum(v) / len(v) for t, v in by_task.items()}


def wrong_colours(predictions: Path, annotations: Path) -> dict[str, tuple[int, float, float]]:
    """task -> (wrong answers, share naming a colour some object of the video has, the same share among the wrong
    options offered: what a guess among the offered wrong options would give)."""
    cache: dict[str, list[dict]] = {}
    out = {}
    rows = [json.loads(line) for line in predictions.read_text().splitlines() if line.strip()]
    for task in ("colour", "static_presence"):
        wrong = in_video = offered = offered_in_video = 0
        for r in rows:
            if r["kind"] != "mc" or r["task"] != task:
                continue
            vid = r["extra"]["video_id"]
            if vid not in cache:
                cache[vid] = json.loads((annotations / f"{vid}.json").read_text())["objects"]
            colours = {o["colour"] for o in cache[vid]}
            options = [c.split()[0] for c in r["candidates"]]
            others = [c for i, c in enumerate(options) if i != r["answer_idx"]]
            offered += len(others)
            offered_in_video += sum(c in colours for c in others)
            if not r["likelihood_correct"]:
                wrong += 1
                in_video += options[r["likelihood_choice"]] in colours
        out[task] = (wrong, in_video / max(wrong, 1), offered_in_video / max(offered, 1))
    return out


def final_loss(run_folder: Path) -> float | None:
    summary = run_folder / "summary.json"
    if not summary.is_file():
        return None
    curve = json.loads(summary.read_text())["loss_curve"]
    return statistics.mean(x[1] for x in curve[-60:])


def cached_objects(features_root: Path, encoder: str | None) -> tuple[torch.Tensor, list[str], str]:
    """Time-averaged mask-pooled features (M, D) of every cached object made by ``encoder`` (None: the encoder of
    the newest cache entry), and the noun labels."""
    files = sorted(features_root.glob("*/*.safetensors"), key=lambda p: p.stat().st_mtime)
    if not files:
        raise SystemExit(f"no cached features under {features_root}: run `make run` first")
    metas = []
    for f in files:
        with safe_open(str(f), "pt") as handle:
            metas.append((f, handle.metadata()))
    encoder = encoder or metas[-1][1]["encoder"]
    means, labels = [], []
    for f, meta in metas:
        names = json.loads(meta["labels"])
        if meta["encoder"] != encoder or not names:
            continue
        t = load_file(str(f))
        w = t["present"].float()  # (N, T)
        means.append((t["objects"].float() * w[..., None]).sum(1) / w.sum(1, keepdim=True).clamp_min(1))
        labels += names
    return torch.cat(means), labels, encoder


def trained_encoder(store: Path, variants: list[str], seed: int) -> str | None:
    """The encoder digest of the cached features the first variant's stage 3 trained on (its ``features.json``)."""
    for name in variants:
        index = newest(store / "experiment_run" / f"{name}__seed{seed}", "*/features.json")
        if index is None:
            continue
        for path in json.loads(index.read_text()).values():
            if path and Path(path).is_file():
                with safe_open(str(path), "pt") as handle:
                    return handle.metadata()["encoder"]
    return None


def noun_probe(x: torch.Tensor, y: torch.Tensor, train: torch.Tensor, test: torch.Tensor, classes: int) -> float:
    """Held-out accuracy of an L2-regularised multinomial logistic regression (LBFGS) on standardised inputs."""
    x = (x - x[train].mean(0)) / x[train].std(0).clamp_min(1e-6)
    weight = torch.zeros(x.shape[1], classes, requires_grad=True)
    bias = torch.zeros(classes, requires_grad=True)
    opt = torch.optim.LBFGS([weight, bias], max_iter=300, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(x[train] @ weight + bias, y[train]) + 1e-3 * weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return ((x[test] @ weight + bias).argmax(1) == y[test]).float().mean().item()


def pairwise_cosine(tokens: torch.Tensor, pairs: int = 20000) -> float:
    """Mean cosine similarity of ``pairs`` random pairs of rows of ``tokens`` (M, d) (fixed seed)."""
    g = torch.Generator().manual_seed(0)
    i, j = (torch.randint(0, tokens.shape[0], (pairs,), generator=g) for _ in range(2))
    return torch.nn.functional.cosine_similarity(tokens[i], tokens[j]).mean().item()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--store", type=Path, default=ROOT / ".orion" / "store")
    p.add_argument("--annotations", type=Path, default=ROOT / "data" / "raw" / "annotations")
    p.add_argument("--variants", nargs="+", default=list(DEFAULT_VARIANTS))
    p.add_argument("--seed", type=int, default=0, help="which seed's runs (partition <variant>__seed<N>)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "object_projector_kinds.md")
    args = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)

    means, nouns, encoder = cached_objects(args.store / "frame_features", trained_encoder(args.store, args.variants,
                                                                                         args.seed))
    vocab = sorted(set(nouns))
    y = torch.tensor([vocab.index(n) for n in nouns])
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    split = int(0.8 * len(y))
    train, test = order[:split], order[split:]
    raw_probe = noun_probe(means, y, train, test, len(vocab))

    rows = []
    for name in args.variants:
        key = f"{name}__seed{args.seed}"
        run_folder = newest(args.store / "experiment_run" / key, "*/summary.json")
        predictions = newest(args.store / "experiment_scores" / key, "*/predictions.jsonl")
        if run_folder is None or predictions is None:
            print(f"{key}: no run or scores in {args.store}; skipped", file=sys.stderr)
            continue
        run_folder = run_folder.parent
        model = load_checkpoint(run_folder / "export")[0].eval()
        kind = model.object_projector.kind
        probe = cosine = None
        if kind in MEAN_KINDS:
            with torch.no_grad():
                # each object as its own one-frame sample: its mean is the frame, so the tokens are the model's own
                tokens = model.object_projector.forward_pooled(means[:, None, None],
                                                               torch.ones(len(y), 1, 1, dtype=torch.bool))[:, 0]
            probe, cosine = noun_probe(tokens, y, train, test, len(vocab)), pairwise_cosine(tokens)
        rows.append({"variant": name, "kind": kind, "loss": final_loss(run_folder), "tasks": task_accuracy(predictions),
                     "wrong": wrong_colours(predictions, args.annotations), "probe": probe,
                     "cosine": cosine})
        print(name, rows[-1], flush=True)

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    lines = ["# Object projector kinds on the learnable world: where the colour and static-presence answers go", "",
             f"Written {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC at commit {commit} on {platform.machine()} "
             f"(CPU) by `.venv/bin/python benchmarks/projector_diagnosis.py`, from the runs and scores in "
             f"`{args.store}` (seed {args.seed}); trains nothing. Noun probe: {len(y)} cached objects of encoder "
             f"`{encoder}`, {len(vocab)} labels, 80/20 split.", "",
             "## Accuracy per task (%, likelihood), stage 3's training loss, noun probe", "",
             "| variant | object projector | colour | static_presence | brief_presence | brief_count | training loss "
             "(last 60 steps) | noun probe on the tokens | token pair cosine |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        t = r["tasks"]
        probe = "n/a (temporal kind)" if r["probe"] is None else f"{r['probe']:.3f}"
        cosine = "n/a" if r["cosine"] is None else f"{r['cosine']:.3f}"
        lines.append(f"| {r['variant']} | {r['kind']} | " + " | ".join(f"{t.get(k, float('nan')):.1f}" for k in TASKS)
                     + f" | {r['loss']:.3f} | {probe} | {cosine} |")
    lines += ["", f"The raw time-averaged features (what `avg` hands over): noun probe {raw_probe:.3f}, token pair "
              f"cosine {pairwise_cosine(means):.3f}. `video_only` has no object tokens: its probe columns describe its "
              "unused object projector.", "",
              "## Wrong answers: do they name a colour that is in the video?", "",
              "| variant | colour: wrong | naming a colour of the video | (offered wrong options that are) | "
              "static_presence: wrong | naming a colour of the video | (offered) |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        (cw, cs, co), (sw, ss, so) = r["wrong"]["colour"], r["wrong"]["static_presence"]
        lines.append(f"| {r['variant']} | {cw} | {cs:.2f} | {co:.2f} | {sw} | {ss:.2f} | {so:.2f} |")
    write_keeping_reading(args.out, "\n".join(lines))  # the hand-written reading below the numbers survives
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
