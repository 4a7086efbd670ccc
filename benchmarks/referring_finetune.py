"""Ref-FT against stage 3 on the synthetic world's referring items: the four caption metrics, and what the answers get
right (the named object's size, colour and noun; whether it moved), read from the two evaluations `make run` made.

    .venv/bin/python benchmarks/referring_finetune.py            # newest referring_scores + benchmark_scores in the store
    .venv/bin/python benchmarks/referring_finetune.py --store .orion/store --out benchmarks/results/referring_finetune.md

The reference sentences start "The <size> <colour> <noun> ..." (orion_core.data.synthetic.language.object_sentence);
a part counts as right when its word appears among the answer's first words. "still" agreement: the reference and
the answer agree on whether the object stays still at some point ("still" in both or in neither).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METRICS = ("BLEU@4", "METEOR", "ROUGE_L", "CIDEr")


def newest(store: Path, asset: str) -> Path:
    found = sorted((store / asset / "synthetic").glob("*/scores.json"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise SystemExit(f"no {asset} for the synthetic benchmark under {store}: run `make run` first")
    return found[-1].parent


def parts(folder: Path) -> dict:
    """Per-part agreement over the referring items that were answered (failed ones counted apart)."""
    rows = [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r["kind"] == "referring"]
    answered = [r for r in rows if not r.get("error")]

    def words(text: str | None) -> list[str]:
        return (text or "").lower().replace(",", " ").replace(".", " ").split()

    hits = {"size": 0, "colour": 0, "noun": 0, "still agrees": 0}
    for r in answered:
        ref, pred = words(r["answer"]), words(r["prediction"])
        size, colour, noun = ref[1], ref[2], ref[3]
        hits["size"] += size in pred[:4]
        hits["colour"] += colour in pred[:4]
        hits["noun"] += noun in pred[:5]
        hits["still agrees"] += ("still" in ref) == ("still" in pred)
    n = max(1, len(answered))
    return {"items": len(rows), "answered": len(answered), "failed": len(rows) - len(answered),
            "distinct_answers": len({r["prediction"] for r in answered}),
            **{k: round(v / n, 3) for k, v in hits.items()},
            "examples": [(r["answer"], r["prediction"]) for r in answered[:4]]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--store", type=Path, default=ROOT / ".orion" / "store")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "referring_finetune.md")
    args = p.parse_args()
    ref_dir, stage3_dir = newest(args.store, "referring_scores"), newest(args.store, "benchmark_scores")
    ref = json.loads((ref_dir / "scores.json").read_text())["metrics"]
    stage3 = json.loads((stage3_dir / "scores.json").read_text())["metrics"]
    ref_parts, stage3_parts = parts(ref_dir), parts(stage3_dir)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    lines = [
        "# Ref-FT (referring fine-tune) vs stage 3 on the synthetic referring split", "",
        f"Machine: {platform.machine()} CPU, {os_cpus()} cores, no GPU. Written {datetime.now(timezone.utc):%Y-%m-%d %H:%M} "
        f"UTC at commit {commit} by `.venv/bin/python benchmarks/referring_finetune.py` from the evaluations `make run` "
        f"made (`referring_scores[synthetic]`: {ref_dir.name}; `benchmark_scores[synthetic]`: {stage3_dir.name}).", "",
        "| metric | stage 3 | Ref-FT | change |", "|---|---|---|---|"]
    for m in METRICS:
        a, b = stage3.get(f"referring/{m}"), ref.get(f"referring/{m}")
        lines.append(f"| {m} | {a} | {b} | {b - a:+.2f} |" if a is not None and b is not None else f"| {m} | {a} | {b} | |")
    lines += ["| SPICE | not computed | not computed | needs Stanford CoreNLP, which no reachable registry ships |", "",
              "What the answers get right (share of answered items):", "",
              "| model | items | failed | distinct answers | size | colour | noun | still agrees |",
              "|---|---|---|---|---|---|---|---|"]
    for name, r in (("stage 3", stage3_parts), ("Ref-FT", ref_parts)):
        lines.append(f"| {name} | {r['items']} | {r['failed']} | {r['distinct_answers']} | {r['size']} | {r['colour']} | "
                     f"{r['noun']} | {r['still agrees']} |")
    lines += ["", "Examples (reference -> Ref-FT answer):", ""]
    lines += [f"- {a!r} -> {b!r}" for a, b in ref_parts["examples"]]
    args.out.write_text("\n".join(lines) + "\n")
    print(args.out.read_text())
    return 0


def os_cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    raise SystemExit(main())
