"""Frame sampling and encoder-input settings (PAPER.md: t_v, t_o, n)."""

from __future__ import annotations

from dataclasses import dataclass

from .base import check, check_choice


@dataclass(frozen=True, kw_only=True)
class VideoConfig:
    t_v: int = 8
    """Frames uniformly sampled for the video-centric branch (8; 16 for VideoOrion+)."""
    t_o: int = 64
    """Frames sampled for tracking objects (object branch)."""
    t_o_long: int = 128
    """t_o for videos longer than ``long_video_s`` seconds."""
    long_video_s: float = 60.0
    """Duration above which ``t_o_long`` replaces ``t_o``."""
    n_pretrain: int = 16
    """Frames tagged per video for object-pretraining data (detect-segment-track step 1)."""
    n_instruct: int = 64
    """Frames tagged per video for instruction-tuning data."""
    image_size: int = 336
    """Square side (pixels) of the vision encoder's input (336 CLIP-L/14, 384 SigLIP)."""
    resize_mode: str = "pad"
    """How frames become square: ``pad`` (to square with the mean colour, as VideoLLaMA2), ``crop`` (centre), ``stretch``."""
    decoder: str = "auto"
    """``auto`` tries decord and falls back to PyAV; ``decord`` or ``pyav`` forces one."""

    def __post_init__(self) -> None:
        for name in ("t_v", "t_o", "t_o_long", "n_pretrain", "n_instruct", "image_size"):
            check(getattr(self, name) >= 1, f"video.{name} must be >= 1, got {getattr(self, name)}")
        check(self.t_o_long >= self.t_o, "video.t_o_long must be >= video.t_o")
        check(self.long_video_s > 0, "video.long_video_s must be > 0")
        check_choice("video.resize_mode", self.resize_mode, ("pad", "crop", "stretch"))
        check_choice("video.decoder", self.decoder, ("auto", "decord", "pyav"))

    def t_o_for(self, duration_s: float) -> int:
        """Tracking frames for a video of ``duration_s`` seconds (the paper's 128-over-a-minute rule)."""
        return self.t_o_long if duration_s > self.long_video_s else self.t_o

    def tagged_frames(self, split: str) -> int:
        """Frames tagged per video of a data split (PAPER.md step 1): ``n_instruct`` (64) for instruction data
        (``instruct``), ``n_pretrain`` (16) for (object-)pretraining data and anything else."""
        return self.n_instruct if split == "instruct" else self.n_pretrain
