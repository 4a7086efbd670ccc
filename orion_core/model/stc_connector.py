"""Video projector: VideoLLaMA2's spatial-temporal convolution (STC) connector and its pooling variant.

Layout (facts from VideoLLaMA2's public ``projector.py``; the parameter names match its ``mm_projector``
weights so the paper's starting point loads directly):

* ``s1``: a timm ``RegStage`` (``depth`` RegNet bottleneck blocks, SiLU, LayerNorm2d) applied per frame,
  widening the encoder width D to the LLM width d;
* ``sampler``: ``Conv3d(d, d, kernel=stride=(2, 2, 2))`` + SiLU halves time, height and width
  (``stp``: ``AvgPool3d(2)`` + SiLU instead);
* ``s2``: a second ``RegStage`` per (downsampled) frame;
* ``readout``: an MLP (Linear, then GELU + Linear per extra layer) applied to every spatio-temporal cell.

With conv padding 0, 8 CLIP-L frames (24 x 24 patches) give 4 x 12 x 12 = 576 context tokens.
"""

from __future__ import annotations

from pathlib import Path

import torch
from timm.layers import LayerNorm2d
from timm.models.regnet import RegStage
from torch import nn

from orion_core.weights import MissingWeightsError


def _regstage(depth: int, in_chs: int, out_chs: int) -> nn.Module:
    if depth == 0:
        return nn.Identity() if in_chs == out_chs else nn.Conv2d(in_chs, out_chs, 1)
    return RegStage(depth=depth, in_chs=in_chs, out_chs=out_chs, stride=1, dilation=1,
                    act_layer=nn.SiLU, norm_layer=LayerNorm2d)


def _readout(depth: int, in_dim: int, out_dim: int) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Linear(in_dim, out_dim)]
    for _ in range(1, depth):
        layers += [nn.GELU(), nn.Linear(out_dim, out_dim)]
    return nn.Sequential(*layers)


class STCConnector(nn.Module):
    """Map per-frame patch features (B, T, h, w, D) to context tokens (B, T' * h' * w', d)."""

    def __init__(self, *, in_dim: int, out_dim: int, depth: int = 4, mlp_depth: int = 2,
                 downsample: tuple[int, int, int] = (2, 2, 2), conv_padding: int = 0, pooling: bool = False) -> None:
        super().__init__()
        self.in_dim, self.out_dim = in_dim, out_dim
        self.downsample = tuple(downsample)
        self.conv_padding = 0 if pooling else conv_padding
        self.pooling = pooling
        self.s1 = _regstage(depth, in_dim, out_dim)
        if pooling:  # STP: parameter-free downsampling
            self.sampler = nn.Sequential(nn.AvgPool3d(self.downsample), nn.SiLU())
        else:
            self.sampler = nn.Sequential(
                nn.Conv3d(out_dim, out_dim, kernel_size=self.downsample, stride=self.downsample,
                          padding=conv_padding, bias=True),
                nn.SiLU(),
            )
        self.s2 = _regstage(depth, out_dim, out_dim)
        self.readout = _readout(mlp_depth, out_dim, out_dim)

    def output_grid(self, t: int, h: int, w: int) -> tuple[int, int, int]:
        """(T', h', w') after the downsampler for an input of t frames of h x w patches."""
        p = self.conv_padding
        return tuple((n + 2 * p - k) // k + 1 for n, k in zip((t, h, w), self.downsample))  # type: ignore[return-value]

    def num_tokens(self, t: int, h: int, w: int) -> int:
        tt, hh, ww = self.output_grid(t, h, w)
        return tt * hh * ww

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, h, w, D) -> context tokens (B, T' * h' * w', d), ordered time-major then row-major."""
        b, t, h, w, d = x.shape
        if t < self.downsample[0] and self.conv_padding == 0:
            raise ValueError(f"STC needs at least {self.downsample[0]} frames, got {t} (repeat images to t_v frames)")
        x = x.permute(0, 1, 4, 2, 3).reshape(b * t, d, h, w)  # (B*T, D, h, w)
        x = self.s1(x)  # (B*T, d, h, w)
        c = x.shape[1]
        x = x.reshape(b, t, c, h, w).transpose(1, 2)  # (B, d, T, h, w)
        x = self.sampler(x)  # (B, d, T', h', w')
        t2, h2, w2 = x.shape[2:]
        x = x.transpose(1, 2).reshape(b * t2, c, h2, w2)  # (B*T', d, h', w')
        x = self.s2(x)  # (B*T', d, h', w')
        x = x.reshape(b, t2, c, h2, w2).permute(0, 1, 3, 4, 2).reshape(b, t2 * h2 * w2, c)  # (B, T'h'w', d)
        return self.readout(x)


def load_projector_weights(module: nn.Module, path: str | Path) -> None:
    """Load VideoLLaMA2 ``mm_projector`` weights (``.bin`` or ``.safetensors``) into ``module``, strictly.

    Keys may carry any prefix ending in ``mm_projector.`` (``model.mm_projector.s1.b1...``); the rest must
    match this module's names and shapes exactly, otherwise the error lists what differs.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingWeightsError(f"model.video_projector_path: projector weights not found at {path}")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        raw = load_file(str(path))
    else:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    marker = "mm_projector."
    state = {k.split(marker, 1)[1] if marker in k else k: v for k, v in raw.items()}
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
    if missing or unexpected or wrong:
        raise ValueError(f"projector weights at {path} do not fit: missing {missing[:5]}, unexpected "
                         f"{unexpected[:5]}, wrong shape {wrong[:5]} ({len(missing)}/{len(unexpected)}/{len(wrong)})")
    ref = next(iter(own.values()))
    module.load_state_dict({k: v.to(dtype=own[k].dtype, device=ref.device) for k, v in state.items()})
