"""Evaluation settings (PAPER.md: Evaluation; orion_core.eval)."""

from __future__ import annotations

from dataclasses import dataclass

from .base import check, check_choice

BENCHMARKS = ("synthetic", "mvbench", "egoschema", "perception_test", "videomme", "activitynet_qa", "videoref45k",
              "temporalbench")


@dataclass(frozen=True, kw_only=True)
class EvalConfig:
    benchmarks: tuple[str, ...] = ("synthetic",)
    """Benchmarks scored by ``benchmark_scores`` (one partition each)."""
    data_root: str = "data/benchmarks"
    """Local folder or s3:// prefix holding the published benchmarks, one sub-folder per benchmark name
    (``<data_root>/mvbench``); the synthetic benchmark is read from the world at ``data.source``."""
    s3_endpoint_url: str | None = None
    """S3 endpoint for an ``s3://`` data_root (None: ``data.s3_endpoint_url``, then boto3's default)."""
    max_new_tokens: int = 32
    """Generation budget per answer."""
    objects: str = "pipeline"
    """Where object masks come from at evaluation: ``pipeline`` (detect-segment-track on each video, the
    paper's setting), ``none`` (no object tokens: the video-only model) or ``oracle`` (the synthetic world's
    ground-truth masks; a diagnostic that separates pipeline misses from model errors)."""
    masks_cache: str = ".orion/cache/eval_masks"
    """Folder where pipeline mask lists computed during evaluation are kept (content-addressed by video
    bytes and pipeline config, so a re-run reuses them); empty string: keep nothing."""
    subtitles: bool = False
    """Video-MME "w/ subs": put the video's subtitle lines into the prompt."""
    labelled_only: bool = True
    """Skip (and count) items whose answers are hidden (EgoSchema full set, Perception Test test split)."""
    judge: str = "none"
    """Open-ended judge: ``none`` (predictions only), ``transformers`` (local model at ``judge_path``) or
    ``http`` (an OpenAI-compatible endpoint at ``judge_base_url``)."""
    judge_path: str | None = None
    """Local folder or s3:// URI of the judge model (transformers layout) for ``judge: transformers``."""
    judge_base_url: str | None = None
    """Base URL of an OpenAI-compatible API (``.../v1``) for ``judge: http``."""
    judge_model: str | None = None
    """Model name sent to the HTTP judge (Video-ChatGPT used gpt-3.5-turbo)."""
    judge_api_key_env: str = "OPENAI_API_KEY"
    """Environment variable holding the HTTP judge's API key (never put keys in a preset)."""
    judge_max_new_tokens: int = 64
    """Generation budget of a judge reply."""
    judge_timeout_s: float = 60.0
    """Per-request timeout of the HTTP judge."""
    ablation_seeds: tuple[int, ...] = (0, 1, 2)
    """Seeds of the Table 4 runs (``experiment_run`` partitions ``<variant>__seed<N>``: every Table 4 variant at
    every seed)."""
    experiment_seeds: tuple[int, ...] = (0,)
    """Seeds of the other paper tables' runs (Tables 5, 6, 10, 11 and the object projectors,
    ``orion_core.experiments.registry``); a variant shared with Table 4 (videoorion, video_only) trains once per
    seed whichever table asks."""

    def __post_init__(self) -> None:
        for name in self.benchmarks:
            check(name in BENCHMARKS, f"eval.benchmarks: unknown benchmark {name!r}; known: {list(BENCHMARKS)}")
        check(self.max_new_tokens >= 1, "eval.max_new_tokens must be >= 1")
        check_choice("eval.objects", self.objects, ("pipeline", "none", "oracle", "shuffled"))
        check_choice("eval.judge", self.judge, ("none", "transformers", "http"))
        check(self.judge_max_new_tokens >= 1, "eval.judge_max_new_tokens must be >= 1")
        check(self.judge_timeout_s > 0, "eval.judge_timeout_s must be > 0")
        check(len(self.ablation_seeds) >= 1, "eval.ablation_seeds needs at least one seed")
        check(len(set(self.ablation_seeds)) == len(self.ablation_seeds), "eval.ablation_seeds must be distinct")
        check(len(self.experiment_seeds) >= 1, "eval.experiment_seeds needs at least one seed")
        check(len(set(self.experiment_seeds)) == len(self.experiment_seeds), "eval.experiment_seeds must be distinct")
