"""Frozen features computed once: the vision encoder's output per video and frame set, content-addressed.

VideoOrion never trains its vision encoder (PAPER.md), so what it makes of a video's context frames and object
frames is a pure function of (video bytes, frame indices, encoder weights, input geometry). Computing it once
and keeping it lets every stage, epoch and ablation variant skip decoding and encoding: at full size encoding
the 64 object frames is 47% of a 7B forward (benchmarks/results/gpu_h200.md); at the embedded size it is most
of a training step.

* :func:`object_coverage` - a mask list's masks on the patch grid (the one rule training, inference and
  evaluation share);
* :class:`VideoFeatures` - context-frame patch features (t_v, h, w, D) and per-frame mask-pooled object
  features (N, T_o, D) with a presence mask (N, T_o): what the projectors read;
* :class:`FeatureStore` - one safetensors file per (video, mask list, encoder, geometry), written atomically,
  sealed (its sha256 beside it) and read back by key;
* :func:`compute_features` / :func:`features_for_videos` - decode once, encode, pool, store; a stored file is
  reused only when it matches its seal (else reported with its path, moved aside and computed again).
"""

from .compute import FeatureEncoder, compute_features, encoder_digest, features_for_videos, object_coverage
from .store import FeatureStore, VideoFeatures, features_key

__all__ = ["FeatureEncoder", "FeatureStore", "VideoFeatures", "compute_features", "encoder_digest",
           "features_for_videos", "features_key", "object_coverage"]
