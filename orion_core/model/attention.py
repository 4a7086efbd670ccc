"""The object-token attention diagnostic (PAPER.md Fig. 3 / Fig. 7) and its picture.

The paper reads the attention of the LLM's last decoder layer and normalises it over the object tokens so
it sums to one: which object did the answer look at? :func:`object_attention` computes exactly that for one
sequence; :func:`attention_figure` puts the numbers beside each object's mask.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from transformers import PreTrainedModel


@torch.no_grad()
def object_attention(llm: PreTrainedModel, embeds: torch.Tensor, object_positions: torch.Tensor,
                     query_positions: torch.Tensor) -> np.ndarray:
    """Attention (N,) the queries pay to each object token in the last layer, averaged over heads and queries.

    embeds (1, L, d) the full sequence (prompt + answer); object_positions (N,) and query_positions (Q,)
    index into L. The result sums to 1 (all zeros when N is 0). The LLM runs with eager attention for this
    pass only (fused kernels do not return attention maps), then its kernel is restored.
    """
    if object_positions.numel() == 0:
        return np.zeros(0, dtype=np.float32)
    previous = llm.config._attn_implementation
    llm.set_attn_implementation("eager")
    try:
        out = llm(inputs_embeds=embeds, output_attentions=True)
    finally:
        llm.set_attn_implementation(previous)
    attn = out.attentions[-1][0].float().mean(0)  # (L, L) averaged over heads
    received = attn[query_positions][:, object_positions].mean(0)  # (N,)
    total = received.sum()
    return (received / total if total > 0 else received).cpu().numpy()


def _overlay(frame: np.ndarray, mask: np.ndarray, colour: Sequence[float]) -> np.ndarray:
    out = frame.astype(np.float32) / 255.0
    out[mask] = 0.45 * out[mask] + 0.55 * np.asarray(colour[:3], dtype=np.float32)
    return out


def attention_figure(frames: np.ndarray, masks: np.ndarray, attention: np.ndarray, *, labels: Sequence[str] = (),
                     question: str = "", answer: str = "", max_objects: int = 12):
    """Matplotlib figure: each object's mask (on the frame where it is largest) above its attention bar.

    frames (T, H, W, 3) uint8, masks (N, T, H, W) bool at the frames' size, attention (N,).
    Shows the ``max_objects`` objects with the most attention (all bars are drawn).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    n = len(attention)
    shown = list(np.argsort(-attention)[:max_objects]) if n else []
    cols = max(len(shown), 1)
    fig = plt.figure(figsize=(2.0 * cols + 1, 5.2))
    grid = fig.add_gridspec(2, cols, height_ratios=[1.2, 1.0])
    cmap = plt.get_cmap("tab20")
    for c, k in enumerate(shown):
        ax = fig.add_subplot(grid[0, c])
        t = int(masks[k].reshape(masks.shape[1], -1).sum(1).argmax())
        ax.imshow(_overlay(frames[t], masks[k, t], cmap(k % 20)))
        name = labels[k] if k < len(labels) else f"o{k + 1}"
        ax.set_title(f"o{k + 1} {name}\n{attention[k]:.2f}", fontsize=8)
        ax.axis("off")
    ax = fig.add_subplot(grid[1, :])
    if n:
        ax.bar(np.arange(n), attention, color=[cmap(k % 20) for k in range(n)])
        ax.set_xticks(np.arange(n), [f"o{k + 1}" for k in range(n)], fontsize=7, rotation=90 if n > 16 else 0)
    ax.set_ylabel("attention (sums to 1)")
    ax.set_ylim(0, max(1e-6, float(attention.max()) * 1.15) if n else 1)
    fig.suptitle(f"Q: {question}\nA: {answer}"[:300], fontsize=9)
    fig.tight_layout()
    return fig
