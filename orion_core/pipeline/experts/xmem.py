"""XMem tracker (the paper's tracker) behind the Tracker Protocol: the network of :mod:`.xmem_model` plus XMem's
memory reading, run over one clip with every object at once.

Per clip (frame 0 carries the masks), as XMem's own inference at its default settings:

1. frames are normalised with ImageNet statistics, resized so the shorter side is ``size`` (480) and padded to a
   multiple of 16;
2. frame 0: its key and the given masks' value go into the working memory, the hidden state starts at zero and
   gets a deep update;
3. every later frame: its key reads the memory (XMem's anisotropic L2 similarity scaled by the memory's shrinkage
   and the query's selection, top-k softmax with k = ``top_k`` over memory positions), the decoder turns readout
   + hidden state into one logit map per object, objects and background compete through soft aggregation, and
   the hidden state is updated; every ``mem_every``-th frame becomes a memory frame (value encoded from the
   prediction, deep hidden update);
4. a pixel belongs to the object with the highest probability, when that beats the background.

The working memory keeps the first frame and the latest ``max_memory_frames - 1`` memory frames (a clip between
two key frames is at most t_o = 128 frames, i.e. 26 memory frames at ``mem_every`` 5). XMem's long-term memory
(consolidating old working memory into prototypes) is not written here: it only engages past
``max_mid_term_frames`` (10) memory frames, i.e. clips of more than ~50 frames; there this tracker drops the
oldest non-first memory frames instead.

Weights: an XMem checkpoint (``torch.save`` of the state dict, e.g. the authors' ``XMem.pth``) at
``pipeline.tracker_path``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from orion_core.config import PipelineConfig
from orion_core.weights import resolve_weights

from .xmem_model import XMemNetwork, load_xmem

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _similarity(mem_key, mem_shrink, query_key, query_sel) -> torch.Tensor:
    """XMem's similarity of memory keys (C_k, M) with shrinkage (1, M) to query keys/selection (C_k, Q) -> (M, Q).

    -||k_m - q||^2 weighted per channel by the query's selection, scaled by the memory's shrinkage / sqrt(C_k).
    """
    a_sq = mem_key.pow(2).T @ query_sel  # (M, Q)
    two_ab = 2 * (mem_key.T @ (query_key * query_sel))
    b_sq = (query_sel * query_key.pow(2)).sum(0, keepdim=True)  # (1, Q)
    return (-a_sq + two_ab - b_sq) * mem_shrink.T / math.sqrt(mem_key.shape[0])


def _top_k_softmax(similarity: torch.Tensor, k: int) -> torch.Tensor:
    """Softmax over memory positions (dim 0) of only the top-k similarities per query; the rest get 0."""
    k = min(k, similarity.shape[0])
    values, indices = torch.topk(similarity, k=k, dim=0)
    weights = torch.softmax(values, dim=0)
    return torch.zeros_like(similarity).scatter_(0, indices, weights)


def _aggregate(prob: torch.Tensor) -> torch.Tensor:
    """Soft aggregation (STM): object probabilities (N, H, W) -> (1 + N, H, W) with background first."""
    with_bg = torch.cat([torch.prod(1 - prob, dim=0, keepdim=True), prob], 0).clamp(1e-7, 1 - 1e-7)
    return torch.softmax(torch.log(with_bg / (1 - with_bg)), dim=0)


class XMemTracker:
    """Tracker Protocol over an :class:`~.xmem_model.XMemNetwork`."""

    def __init__(self, *, network: XMemNetwork, device: str = "cpu", size: int = 480, top_k: int = 30,
                 mem_every: int = 5, max_memory_frames: int = 32) -> None:
        self.network = network.to(device).eval()
        self.device = device
        self.size, self.top_k, self.mem_every, self.max_memory_frames = size, top_k, mem_every, max_memory_frames
        self._mean = torch.tensor(IMAGENET_MEAN, device=device)[:, None, None]
        self._std = torch.tensor(IMAGENET_STD, device=device)[:, None, None]

    @classmethod
    def from_config(cls, config: PipelineConfig, *, device: str = "cpu") -> "XMemTracker":
        path = resolve_weights(config.tracker_path, what="pipeline.tracker_path")
        return cls(network=load_xmem(path, device=device), device=device)

    def _prepare(self, frames: np.ndarray) -> tuple[torch.Tensor, tuple[int, int], tuple[int, int]]:
        """(T, H, W, 3) uint8 -> (T, 3, H', W') normalised and padded, the resized size, the padding (bottom, right)."""
        height, width = frames.shape[1:3]
        scale = self.size / min(height, width)
        size = (max(16, round(height * scale)), max(16, round(width * scale)))
        x = torch.as_tensor(frames, device=self.device).permute(0, 3, 1, 2).float() / 255.0
        x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
        x = (x - self._mean) / self._std
        pad = ((16 - size[0] % 16) % 16, (16 - size[1] % 16) % 16)
        return F.pad(x, (0, pad[1], 0, pad[0]), mode="reflect" if min(size) > 16 else "constant"), size, pad

    @torch.inference_mode()
    def track(self, frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
        """frames (T, H, W, 3) uint8, masks (N, H, W) bool on frames[0] -> masks (N, T, H, W) bool.

        Frame 0 of the result is the given mask; an object XMem loses gets empty masks.
        """
        if not (isinstance(frames, np.ndarray) and frames.dtype == np.uint8 and frames.ndim == 4
                and frames.shape[-1] == 3 and len(frames) > 0):
            raise ValueError(f"frames must be a non-empty (T, H, W, 3) uint8 array, got {getattr(frames, 'shape', frames)}")
        masks = np.asarray(masks)
        num_frames, height, width = frames.shape[:3]
        if masks.ndim != 3 or masks.shape[1:] != (height, width):
            raise ValueError(f"masks must be (N, {height}, {width}) to match the frames, got {masks.shape}")
        result = np.zeros((len(masks), num_frames, height, width), dtype=bool)  # (N, T, H, W)
        result[:, 0] = masks
        if len(masks) == 0 or num_frames == 1:
            return result
        images, size, pad = self._prepare(frames)  # (T, 3, H', W')
        given = torch.as_tensor(masks, device=self.device).float()[None]  # (1, N, H, W)
        given = F.interpolate(given, size=size, mode="bilinear", align_corners=False)
        given = F.pad(given, (0, pad[1], 0, pad[0]))[0]  # (N, H', W')
        net = self.network
        n = len(masks)
        memory_keys, memory_shrink, memory_values = [], [], []  # per memory frame: (C_k, hw), (1, hw), (N, C_v, hw)
        hidden = None
        for t in range(num_frames):
            image = images[t:t + 1]
            f16, f8, f4 = net.key_encoder(image)
            key, shrinkage, selection = net.key_proj(f16)  # (1, C_k, h, w), (1, 1, h, w), (1, C_k, h, w)
            h16, w16 = key.shape[-2:]
            if hidden is None:
                hidden = torch.zeros(1, n, net.arch.hidden_dim, h16, w16, device=self.device)
            if t == 0:
                prob = _aggregate(given)  # (1 + N, H', W')
            else:
                affinity = _top_k_softmax(_similarity(torch.cat(memory_keys, 1), torch.cat(memory_shrink, 1),
                                                      key[0].flatten(1), selection[0].flatten(1)), self.top_k)
                readout = torch.cat(memory_values, 2) @ affinity  # (N, C_v, hw)
                readout = readout.view(1, n, -1, h16, w16)
                memory_frame = t % self.mem_every == 0
                new_hidden, logits = net.decoder(f16, f8, f4, hidden, readout, update_hidden=not memory_frame)
                if not memory_frame:
                    hidden = new_hidden
                prob = _aggregate(torch.sigmoid(logits[0]))
                out = prob.argmax(0)[:size[0], :size[1]]  # (H_r, W_r): 0 background, n + 1 object n
                full = F.interpolate(out[None, None].float(), size=(height, width), mode="nearest")[0, 0].long()
                for i in range(n):
                    result[i, t] = (full == i + 1).cpu().numpy()
            if t == 0 or t % self.mem_every == 0:
                value, hidden = net.value_encoder(image, f16, hidden, prob[1:][None], deep_update=True)
                memory_keys.append(key[0].flatten(1))
                memory_shrink.append(shrinkage[0].flatten(1))
                memory_values.append(value[0].flatten(2))
                if len(memory_keys) > self.max_memory_frames:  # keep the first (given) frame, drop the oldest other
                    for store in (memory_keys, memory_shrink, memory_values):
                        del store[1]
        return result
