"""Scores from per-item records: accuracy tables, TemporalBench multi-binary accuracy, judge aggregates,
and referring caption metrics through pycocoevalcap.

Accuracy is in percent (as the paper's tables). Every table row has ``correct``, ``total`` and ``accuracy``;
items that failed (unreadable video, ...) count in ``total`` as wrong and in ``failed``, so a broken input
can never raise a score by disappearing.
"""

from __future__ import annotations

import contextlib
import io
from collections import defaultdict
from typing import Any, Iterable, Mapping, Sequence

SPICE_UNAVAILABLE = {
    "available": False,
    "reason": "SPICE needs Stanford CoreNLP 3.6.0 jars, which pycocoevalcap downloads on first use; this "
              "machine cannot fetch them, so SPICE is not computed (no number is reported rather than a wrong one)",
}
METRIC_NAMES = ("BLEU@4", "METEOR", "ROUGE_L", "CIDEr")


def _row(correct: int, total: int, failed: int = 0) -> dict[str, Any]:
    return {"correct": correct, "total": total, "failed": failed,
            "accuracy": round(100.0 * correct / total, 2) if total else None}


def accuracy_table(records: Iterable[Mapping[str, Any]], key: str = "task") -> dict[str, dict[str, Any]]:
    """Per-``key`` accuracy of MC records (``correct``: bool, ``error``: str | None, plus the key), sorted."""
    correct: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    failed: dict[str, int] = defaultdict(int)
    for r in records:
        group = str(r.get(key) if key in r else r.get("groups", {}).get(key, "?"))
        total[group] += 1
        correct[group] += bool(r.get("correct"))
        failed[group] += r.get("error") is not None
    return {g: _row(correct[g], total[g], failed[g]) for g in sorted(total)}


def mc_summary(records: Sequence[Mapping[str, Any]], *, group_keys: Sequence[str] = ()) -> dict[str, Any]:
    """Overall and per-task accuracy, per-group tables, and how answers were read (rule counts)."""
    rules: dict[str, int] = defaultdict(int)
    for r in records:
        rules[r.get("rule") or "failed"] += 1
    overall = _row(sum(bool(r.get("correct")) for r in records), len(records),
                   sum(r.get("error") is not None for r in records))
    out = {"overall": overall, "by_task": accuracy_table(records, "task"),
           "answer_rules": dict(sorted(rules.items()))}
    for key in group_keys:
        out[f"by_{key}"] = accuracy_table(records, key)
    # macro average over tasks (MVBench reports the mean of its 20 task accuracies)
    accs = [row["accuracy"] for row in out["by_task"].values() if row["accuracy"] is not None]
    out["task_mean"] = round(sum(accs) / len(accs), 2) if accs else None
    return out


def multi_binary(records: Sequence[Mapping[str, Any]], *, group_field: str = "group") -> dict[str, Any]:
    """TemporalBench: binary accuracy (per question) and multi-binary accuracy (a group counts only if all
    of its questions are right), overall and per task."""
    def summarise(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        groups: dict[str, bool] = {}
        for r in rows:
            g = str(r.get("extra", {}).get(group_field, r["id"]))
            groups[g] = groups.get(g, True) and bool(r.get("correct"))
        return {"binary": _row(sum(bool(r.get("correct")) for r in rows), len(rows)),
                "multi_binary": _row(sum(groups.values()), len(groups))}

    by_task: dict[str, list] = defaultdict(list)
    for r in records:
        by_task[str(r.get("task"))].append(r)
    return {**summarise(records), "by_task": {t: summarise(rows) for t, rows in sorted(by_task.items())}}


def judge_summary(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Video-ChatGPT aggregates of judged records (``judgement``: {pred, score, parsed} or None).

    ``accuracy`` = share of "yes" and ``score`` = mean score, both over parsed judgements (Video-ChatGPT
    drops failed judgements the same way); ``unparseable`` and ``failed`` say how many were left out."""
    def summarise(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        parsed = [r["judgement"] for r in rows if r.get("judgement") and r["judgement"]["parsed"]]
        unparseable = sum(1 for r in rows if r.get("judgement") and not r["judgement"]["parsed"])
        yes = sum(j["pred"] == "yes" for j in parsed)
        return {"total": len(rows), "judged": len(parsed), "unparseable": unparseable,
                "failed": sum(r.get("error") is not None for r in rows),
                "unjudged": sum(1 for r in rows if r.get("error") is None and not r.get("judgement")),
                "yes": yes, "accuracy": round(100.0 * yes / len(parsed), 2) if parsed else None,
                "score": round(sum(j["score"] for j in parsed) / len(parsed), 3) if parsed else None}

    by_task: dict[str, list] = defaultdict(list)
    for r in records:
        by_task[str(r.get("task"))].append(r)
    return {"overall": summarise(records), "by_task": {t: summarise(rows) for t, rows in sorted(by_task.items())}}


def caption_metrics(references: Mapping[str, Sequence[str]], predictions: Mapping[str, str]) -> dict[str, Any]:
    """BLEU@4, METEOR, ROUGE_L and CIDEr (x100, as the paper reports them) of ``predictions`` against
    ``references`` (id -> one or more captions), through pycocoevalcap with its PTB tokenizer (Java).
    SPICE is reported as unavailable with the reason (:data:`SPICE_UNAVAILABLE`), never computed.
    An empty prediction scores 0 (it is kept, as "." so the tokenizer has something to read). ``per_item``
    holds each id's sentence-level scores (CIDEr's document frequencies are still the corpus's)."""
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.meteor.meteor import Meteor
    from pycocoevalcap.rouge.rouge import Rouge
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    ids = sorted(predictions)
    missing = [i for i in ids if not references.get(i)]
    if missing:
        raise ValueError(f"no reference caption for {missing[:5]} ({len(missing)} ids)")
    if not ids:
        return {**{m: None for m in METRIC_NAMES}, "SPICE": dict(SPICE_UNAVAILABLE), "count": 0, "per_item": {}}
    gts = {k: [{"caption": str(c)} for c in references[i]] for k, i in enumerate(ids)}
    res = {k: [{"caption": str(predictions[i]).strip() or "."}] for k, i in enumerate(ids)}
    with contextlib.redirect_stdout(io.StringIO()):  # the scorers print progress lines
        tokenizer = PTBTokenizer()
        gts, res = tokenizer.tokenize(gts), tokenizer.tokenize(res)
        bleu, bleu_each = Bleu(4).compute_score(gts, res)
        meteor = Meteor()
        try:
            meteor_score, meteor_each = meteor.compute_score(gts, res)
        finally:
            _close_meteor(meteor)
        rouge, rouge_each = Rouge().compute_score(gts, res)
        cider, cider_each = Cider().compute_score(gts, res)
    per_item = {i: {"BLEU@4": round(100.0 * float(bleu_each[3][k]), 2),
                    "METEOR": round(100.0 * float(meteor_each[k]), 2),
                    "ROUGE_L": round(100.0 * float(rouge_each[k]), 2),
                    "CIDEr": round(100.0 * float(cider_each[k]), 2)} for k, i in enumerate(ids)}
    return {"BLEU@4": round(100.0 * float(bleu[3]), 2), "METEOR": round(100.0 * float(meteor_score), 2),
            "ROUGE_L": round(100.0 * float(rouge), 2), "CIDEr": round(100.0 * float(cider), 2),
            "SPICE": dict(SPICE_UNAVAILABLE), "count": len(ids), "per_item": per_item}


def _close_meteor(meteor: Any) -> None:
    """Stop METEOR's Java subprocess now (pycocoevalcap only does it in ``__del__``)."""
    proc = getattr(meteor, "meteor_p", None)
    if proc is None or proc.poll() is not None:
        return
    with getattr(meteor, "lock", contextlib.nullcontext()):
        for stream in (proc.stdin, proc.stdout):
            with contextlib.suppress(Exception):
                stream.close()
        proc.kill()
        proc.wait()  # the dead process stays referenced: pycocoevalcap's __del__ then finds nothing to do
