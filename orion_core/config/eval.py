"""Evaluation settings (PAPER.md: Evaluation)."""

from __future__ import annotations

from dataclasses import dataclass

from .base import check

BENCHMARKS = ("synthetic", "mvbench", "egoschema", "perception_test", "videomme", "activitynet_qa", "videoref45k", "temporalbench")


@dataclass(frozen=True, kw_only=True)
class EvalConfig:
    benchmarks: tuple[str, ...] = ("synthetic",)
    """Benchmarks scored by ``benchmark_scores`` (one partition each)."""
    data_root: str = "data/benchmarks"
    """Local folder or s3:// prefix holding the published benchmark data."""
    max_new_tokens: int = 32
    """Generation budget per answer."""
    ablation_seeds: tuple[int, ...] = (0, 1, 2)
    """Seeds of the video-only vs VideoOrion ablation."""

    def __post_init__(self) -> None:
        for name in self.benchmarks:
            check(name in BENCHMARKS, f"eval.benchmarks: unknown benchmark {name!r}; known: {list(BENCHMARKS)}")
        check(self.max_new_tokens >= 1, "eval.max_new_tokens must be >= 1")
