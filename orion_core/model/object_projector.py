"""Object projector: mask-pooled object features -> one LLM token per object (PAPER.md; Table 7 variants).

Kinds (the paper's Table 7):

* ``mlp`` (default): mean over the frames where the object appears, then Linear(D, d) - GELU - Linear(d, d);
* ``linear``: the same mean, then Linear(D, d);
* ``avg``: "plain average pooling" - the same mean with no learned weights; the channel axis is resized from D
  to d by adaptive average pooling (so this kind has no parameters and stage 2 has nothing to train);
* ``attention``: per-frame features -> Linear(D, d) plus a sinusoidal encoding of the frame's relative time
  (so order matters); a learned query attends over the frames where the object appears (absent frames are
  masked out) -> Linear(d, d);
* ``lstm``: an LSTM(D -> d) runs over the frames where the object appears, in time order; its last hidden
  state -> Linear(d, d);
* ``mlp_residual`` (Orion's, not the paper's): ``avg``'s token plus ``mlp``'s head, whose last layer starts at
  zero - so training starts from the plain average and learns a correction. Why: on the synthetic world every
  projector trained from random weights left the colour and static-presence questions near chance while ``avg``
  answered them (``benchmarks/results/object_projector_kinds.md``).

Every kind is vectorised over objects and frames (the LSTM uses packed sequences): no Python loop per object.
"""

from __future__ import annotations

from typing import Sequence, TypeVar

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from orion_core.config.model import OBJECT_PROJECTOR_KINDS as KINDS

from .mask_pooling import TooManyObjectsError, pool_objects

_T = TypeVar("_T")


def cap_objects(objects: Sequence[_T], cap: int) -> tuple[Sequence[_T], int]:
    """The object-token cap (``model.max_object_tokens``), one rule for training (pixels or cached features) and
    evaluation: the first ``cap`` objects in mask-list order get tokens; returns (kept, how many were dropped).

    ``objects`` are what the caller has left after dropping objects with no mask pixel (indices, tensors: anything
    that slices), in the order the mask list holds them (the pipeline's, ``orion_core.pipeline.tracking``).
    """
    if cap < 1:
        raise ValueError(f"the object-token cap must be >= 1, got {cap}")
    kept = objects[:cap]
    return kept, len(objects) - len(kept)


def _time_encoding(t: int, dim: int, *, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """(t, dim) sinusoidal encoding of relative time t / T in [0, 1): the same for 64 or 128 tracked frames."""
    pos = torch.arange(t, device=device, dtype=torch.float32)[:, None] / max(t, 1) * 1000.0
    freq = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-torch.log(torch.tensor(1e4)) / dim))
    enc = torch.zeros(t, dim, device=device)
    enc[:, 0::2] = torch.sin(pos * freq)
    enc[:, 1::2] = torch.cos(pos * freq[: dim // 2])
    return enc.to(dtype)


def _heads_for(dim: int) -> int:
    return next(h for h in (32, 16, 8, 4, 2, 1) if dim % h == 0 and dim // h >= 8 or h == 1)


class ObjectProjector(nn.Module):
    """features (B, T, h, w, D) + coverage (B, N, T, h, w) + counts (B,) -> object tokens (B, N, d)."""

    def __init__(self, *, in_dim: int, out_dim: int, kind: str = "mlp", max_objects: int = 64) -> None:
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"object projector kind {kind!r} is not one of {KINDS}")
        self.in_dim, self.out_dim, self.kind, self.max_objects = in_dim, out_dim, kind, max_objects
        if kind in ("mlp", "mlp_residual"):
            self.head = nn.Sequential(nn.Linear(in_dim, out_dim), nn.GELU(), nn.Linear(out_dim, out_dim))
            if kind == "mlp_residual":  # the correction starts at zero: the first tokens are avg's
                nn.init.zeros_(self.head[2].weight)
                nn.init.zeros_(self.head[2].bias)
        elif kind == "linear":
            self.head = nn.Linear(in_dim, out_dim)
        elif kind == "attention":
            self.frame_proj = nn.Linear(in_dim, out_dim)
            self.query = nn.Parameter(torch.randn(1, 1, out_dim) * out_dim ** -0.5)
            self.attn = nn.MultiheadAttention(out_dim, _heads_for(out_dim), batch_first=True)
            self.head = nn.Linear(out_dim, out_dim)
        elif kind == "lstm":
            self.lstm = nn.LSTM(in_dim, out_dim, batch_first=True)
            self.head = nn.Linear(out_dim, out_dim)

    @property
    def temporal(self) -> bool:
        """Whether this kind models the frame sequence (needs per-frame pooled features)."""
        return self.kind in ("attention", "lstm")

    def forward(self, features: torch.Tensor, coverage: torch.Tensor,
                num_objects: torch.Tensor | None = None) -> torch.Tensor:
        """Object tokens (B, N, d); rows at or beyond ``num_objects[b]`` are zeros (padding slots)."""
        b, n = coverage.shape[:2]
        self._check_slots(n)
        if n == 0:
            return features.new_zeros(b, 0, self.out_dim)
        if self.temporal:
            pooled, present = pool_objects(features, coverage, num_objects, per_frame=True)  # (B,N,T,D), (B,N,T)
            return self.forward_pooled(pooled, present, num_objects)
        pooled, _ = pool_objects(features, coverage, num_objects)  # (B, N, D): the folded spatial+temporal mean
        return self._from_mean(pooled, self._valid(b, n, num_objects, pooled.device))

    def forward_pooled(self, pooled: torch.Tensor, present: torch.Tensor,
                       num_objects: torch.Tensor | None = None) -> torch.Tensor:
        """Object tokens (B, N, d) from per-frame mask-pooled features, as cached by ``orion_core.features``.

        pooled (B, N, T, D) area-weighted mask pooling of each object on each object frame (zeros where absent),
        present (B, N, T) bool. Gives the same tokens as :meth:`forward` on the features the pooling came from.
        """
        b, n = pooled.shape[:2]
        self._check_slots(n)
        if n == 0:
            return pooled.new_zeros(b, 0, self.out_dim)
        valid = self._valid(b, n, num_objects, pooled.device)
        if self.temporal:
            present = present | ~valid[..., None]  # padding slots get a harmless all-frames sequence
            tokens = self._temporal(pooled.flatten(0, 1), present.flatten(0, 1)).reshape(b, n, -1)
            return tokens * valid[..., None].to(tokens.dtype)
        weights = present.to(pooled.dtype)  # (B, N, T)
        mean = (pooled * weights[..., None]).sum(2) / weights.sum(2).clamp_min(1)[..., None]  # (B, N, D)
        return self._from_mean(mean, valid)

    def _from_mean(self, mean: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """Time-averaged object features (B, N, D) -> tokens (B, N, d) for the non-temporal kinds."""
        b, n = mean.shape[:2]
        if self.kind in ("avg", "mlp_residual"):
            # D -> d by adaptive average pooling over channels (the identity when D == d)
            tokens = F.adaptive_avg_pool1d(mean.flatten(0, 1)[:, None], self.out_dim).reshape(b, n, -1)
            if self.kind == "mlp_residual":
                tokens = tokens + self.head(mean)  # (B, N, d)
        else:
            tokens = self.head(mean)  # (B, N, d)
        return tokens * valid[..., None].to(tokens.dtype)

    def _check_slots(self, n: int) -> None:
        if n > self.max_objects:
            raise TooManyObjectsError(f"{n} object slots exceed the cap of {self.max_objects} object tokens")

    @staticmethod
    def _valid(b: int, n: int, num_objects: torch.Tensor | None, device: torch.device) -> torch.Tensor:
        """(B, N) bool: which slots hold an object (the rest is padding)."""
        if num_objects is None:
            return torch.ones(b, n, dtype=torch.bool, device=device)
        return torch.arange(n, device=device)[None] < num_objects.to(device)[:, None]

    def _temporal(self, seq: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        """seq (M, T, D) per-frame pooled features, present (M, T) -> tokens (M, d)."""
        if self.kind == "attention":
            keys = self.frame_proj(seq)  # (M, T, d)
            keys = keys + _time_encoding(seq.shape[1], keys.shape[-1], device=keys.device, dtype=keys.dtype)
            query = self.query.expand(seq.shape[0], -1, -1).to(keys.dtype)  # (M, 1, d)
            out, _ = self.attn(query, keys, keys, key_padding_mask=~present, need_weights=False)  # (M, 1, d)
            return self.head(out[:, 0])
        # LSTM: move each object's present frames to the front (stable, so time order is kept), then pack.
        order = torch.sort((~present).to(torch.int8), dim=1, stable=True).indices  # (M, T)
        packed_seq = torch.gather(seq, 1, order[..., None].expand_as(seq))  # (M, T, D)
        lengths = present.sum(1).cpu()
        packed = pack_padded_sequence(packed_seq, lengths, batch_first=True, enforce_sorted=False)
        _, (h_n, _) = self.lstm(packed)  # h_n (1, M, d)
        return self.head(h_n[-1])
