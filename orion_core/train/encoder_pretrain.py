"""Pretrain the embedded default's frozen vision encoder on the synthetic world: the embedded analogue of CLIP.

VideoOrion freezes a CLIP encoder whose features already say what is in each patch (PAPER.md). A tiny encoder
with random weights says nothing, so neither branch can learn (the first world's ablation: both variants at
chance). This module gives the embedded default an encoder that carries information: a small ViT of the preset's
sizes (transformers' ``CLIPVisionModel``, the same class and loading path as the real one), trained on frames of
the world's *training* videos with two supervised heads on the features of ``model.feature_layer``:

* per patch: the colour and the shape (noun) of the object covering most of it (background when none covers a
  quarter), which is what the context tokens are made of;
* per object: the same two labels from its area-weighted mask pooling, exactly how the object branch reads an
  object, so a pooled object feature names its object.

The heads are thrown away; the encoder is saved with ``save_pretrained`` and loaded like any CLIP
(``model.vision_path``), then frozen for every stage. Benchmark videos are never read. Accuracies on held-out
training frames are reported so a weak encoder is visible before anything is trained on top of it.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from orion_core.config import OrionConfig

MIN_OBJECT_PIXELS = 6
"""An object with fewer visible pixels on a frame is not an object-level example there (nothing to name)."""
PATCH_COVER = 0.25
"""A patch is labelled with the object covering the most of it when that object covers at least this fraction."""
HELD_OUT = 0.1
"""Fraction of the decoded videos kept aside to report accuracies."""


@dataclass
class EncoderPretrainSummary:
    out_dir: str
    steps: int
    frames: int
    videos: int
    objects: int
    """Object-level examples (object x frame) in the training frames."""
    first_loss: float
    final_loss: float
    held_out: dict[str, float]
    """Accuracy on held-out videos' frames: patch_colour, patch_shape (foreground patches), object_colour,
    object_shape."""
    seconds: dict[str, float]
    loss_curve: list[list[float]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class _FrameSet:
    """Decoded frames and their labels (all in memory: a few thousand 64-px frames)."""

    pixels: torch.Tensor  # (F, 3, S, S) encoder input (float16 at rest)
    patch_colour: torch.Tensor  # (F, P) long, 0 = background
    patch_shape: torch.Tensor  # (F, P) long, 0 = background
    obj_frame: torch.Tensor  # (R,) long: frame of each object example
    obj_cover: torch.Tensor  # (R, P) float, rows sum to 1
    obj_colour: torch.Tensor  # (R,) long, 0-based
    obj_shape: torch.Tensor  # (R,) long, 0-based


def _label_frames(world_dir: Path, video_ids: Sequence[str], config: OrionConfig, grid: tuple[int, int],
                  progress: bool) -> tuple[_FrameSet, int, int]:
    from tqdm import tqdm

    from orion_core.data.synthetic import load_annotation
    from orion_core.data.synthetic.vocabulary import COLOURS, KINDS
    from orion_core.model.mask_pooling import masks_to_grid
    from orion_core.video.decode import read_frames
    from orion_core.video.sampling import uniform_indices
    from orion_core.video.transforms import encoder_statistics, to_encoder_input

    colours, nouns = list(COLOURS), [k.noun for k in KINDS]
    mean, std = encoder_statistics(config.model.vision_encoder)
    enc = config.train.encoder
    pixels, pc, ps, of, oc, ocl, osh = [], [], [], [], [], [], []
    frame_count = 0
    for vid in tqdm(video_ids, desc="encoder frames", unit="video", disable=not progress):
        ann = load_annotation(world_dir / "annotations" / f"{vid}.json")
        video = world_dir / "videos" / ann.split / f"{vid}.mp4"
        idx = sorted(set(uniform_indices(int(ann.num_frames), enc.frames_per_video)))
        images = read_frames(str(video), idx, decoder=config.video.decoder)  # (K, H, W, 3)
        pixels.append(to_encoder_input(images, size=config.video.image_size, mode=config.video.resize_mode,
                                       mean=mean, std=std))
        for t, frame in enumerate(idx):
            tids = ann.visible(frame)
            masks = np.stack([ann.mask(tid, frame) for tid in tids]) if tids else np.zeros((0, *images.shape[1:3]), bool)
            cover = masks_to_grid(torch.from_numpy(masks)[:, None], grid=grid,
                                  resize_mode=config.video.resize_mode)[:, 0].flatten(1)  # (K_obj, P)
            col, shp = torch.zeros(cover.shape[1], dtype=torch.long), torch.zeros(cover.shape[1], dtype=torch.long)
            if len(tids):
                best, who = cover.max(0)
                for k, tid in enumerate(tids):
                    obj = ann.object(tid)
                    sel = (who == k) & (best >= PATCH_COVER)
                    col[sel], shp[sel] = 1 + colours.index(obj["colour"]), 1 + nouns.index(obj["name"])
                    if masks[k].sum() >= MIN_OBJECT_PIXELS and cover[k].sum() > 0:
                        of.append(frame_count + t)
                        oc.append(cover[k] / cover[k].sum())
                        ocl.append(colours.index(obj["colour"]))
                        osh.append(nouns.index(obj["name"]))
            pc.append(col)
            ps.append(shp)
        frame_count += len(idx)
    p = grid[0] * grid[1]
    # fp16 at rest: thousands of frames stay small
    frames = _FrameSet(pixels=torch.cat(pixels).half(), patch_colour=torch.stack(pc), patch_shape=torch.stack(ps),
                       obj_frame=torch.tensor(of, dtype=torch.long),
                       obj_cover=torch.stack(oc) if oc else torch.zeros(0, p),
                       obj_colour=torch.tensor(ocl, dtype=torch.long), obj_shape=torch.tensor(osh, dtype=torch.long))
    return frames, len(colours), len(nouns)


def _subset(frames: _FrameSet, keep: torch.Tensor) -> _FrameSet:
    """The frames in ``keep`` (F,) bool, with object examples renumbered."""
    new_index = torch.cumsum(keep.long(), 0) - 1
    rows = keep[frames.obj_frame]
    return _FrameSet(pixels=frames.pixels[keep], patch_colour=frames.patch_colour[keep],
                     patch_shape=frames.patch_shape[keep], obj_frame=new_index[frames.obj_frame[rows]],
                     obj_cover=frames.obj_cover[rows], obj_colour=frames.obj_colour[rows],
                     obj_shape=frames.obj_shape[rows])


class _Heads(nn.Module):
    def __init__(self, dim: int, colours: int, shapes: int) -> None:
        super().__init__()
        self.colour = nn.Linear(dim, colours + 1)  # class 0 = background (patches only)
        self.shape = nn.Linear(dim, shapes + 1)


def _features(vit: nn.Module, pixels: torch.Tensor, layer: int, prefix: int) -> torch.Tensor:
    """(B, 3, S, S) -> (B, P, D) patch features of hidden state ``layer`` (what both branches read)."""
    return vit(pixel_values=pixels.float(), output_hidden_states=True).hidden_states[layer][:, prefix:]


def _mirrored(frames: _FrameSet, grid: tuple[int, int]) -> _FrameSet:
    """The frames mirrored left-right with their labels (every shape of the world is left-right symmetric, so a
    mirrored frame is another valid frame): twice the views for the same decoding."""
    h, w = grid
    flip = lambda x: x.reshape(*x.shape[:-1], h, w).flip(-1).reshape(x.shape)  # noqa: E731 - (..., P) grids
    return _FrameSet(pixels=frames.pixels.flip(-1), patch_colour=flip(frames.patch_colour),
                     patch_shape=flip(frames.patch_shape), obj_frame=frames.obj_frame, obj_cover=flip(frames.obj_cover),
                     obj_colour=frames.obj_colour, obj_shape=frames.obj_shape)


def _losses(feats: torch.Tensor, heads: _Heads, frames: _FrameSet, batch: torch.Tensor) -> tuple[torch.Tensor, dict]:
    """Patch + object cross-entropies of the frames ``batch`` (their features ``feats`` (B, P, D))."""
    flat = feats.reshape(-1, feats.shape[-1])
    pc, ps = frames.patch_colour[batch].flatten(), frames.patch_shape[batch].flatten()
    lc, ls = heads.colour(flat), heads.shape(flat)
    loss = F.cross_entropy(lc, pc) + F.cross_entropy(ls, ps)
    where = torch.full((len(frames.patch_colour),), -1, dtype=torch.long)
    where[batch] = torch.arange(len(batch))
    rows = (where[frames.obj_frame] >= 0).nonzero()[:, 0]
    fg = pc > 0
    stats = {"patch_colour": (lc.argmax(-1)[fg] == pc[fg]).float().mean().item() if fg.any() else float("nan"),
             "patch_shape": (ls.argmax(-1)[fg] == ps[fg]).float().mean().item() if fg.any() else float("nan")}
    if len(rows):
        pooled = torch.einsum("rp,rpd->rd", frames.obj_cover[rows], feats[where[frames.obj_frame[rows]]])
        oc, os_ = heads.colour(pooled)[:, 1:], heads.shape(pooled)[:, 1:]
        loss = loss + F.cross_entropy(oc, frames.obj_colour[rows]) + F.cross_entropy(os_, frames.obj_shape[rows])
        stats["object_colour"] = (oc.argmax(-1) == frames.obj_colour[rows]).float().mean().item()
        stats["object_shape"] = (os_.argmax(-1) == frames.obj_shape[rows]).float().mean().item()
    return loss, stats


def pretrain_world_encoder(config: OrionConfig, world_dir: str | Path, video_ids: Sequence[str], out_dir: str | Path,
                           *, progress: bool = True, log: Callable[[str], None] = print) -> EncoderPretrainSummary:
    """Train the preset's encoder sizes on ``video_ids`` of the world at ``world_dir``; save it to ``out_dir``.

    ``video_ids``: training videos (annotated, never benchmark ones); the first ``train.encoder.videos`` in
    sorted order are used, 10% of them held out for the reported accuracies. Writes ``out_dir/config.json`` +
    ``model.safetensors`` (load with ``model.vision_path``), ``pretrain.json`` and ``loss.png``.
    """
    from orion_core.model.builders import build_vision_encoder, seeded

    enc_cfg = config.train.encoder
    world_dir, out_dir = Path(world_dir), Path(out_dir)
    ids = sorted(set(video_ids))[: enc_cfg.videos]
    if len(ids) < 2:
        raise ValueError(f"encoder pretraining needs at least 2 annotated training videos, got {len(ids)}")
    timing: dict[str, float] = {}
    start = time.perf_counter()
    torch.manual_seed(enc_cfg.seed)
    with seeded(enc_cfg.seed):
        encoder = build_vision_encoder(config.model, image_size=config.video.image_size)
    vit, layer, prefix = encoder.model, encoder.feature_layer, encoder.num_prefix_tokens
    frames, n_colours, n_shapes = _label_frames(world_dir, ids, config, encoder.grid, progress)
    timing["decode_label_s"] = time.perf_counter() - start
    n_held = max(1, int(round(HELD_OUT * len(ids))))
    per_video = len(frames.pixels) // len(ids) if len(ids) else 0
    held = torch.zeros(len(frames.pixels), dtype=torch.bool)
    held[len(frames.pixels) - n_held * per_video:] = True  # the last videos in sorted order
    train, test = _subset(frames, ~held), _subset(frames, held)
    mirror = _mirrored(train, encoder.grid)
    heads = _Heads(encoder.hidden_size, n_colours, n_shapes)
    vit.requires_grad_(True)
    vit.train()
    params = list(vit.parameters()) + list(heads.parameters())
    optimizer = torch.optim.AdamW(params, lr=enc_cfg.lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=enc_cfg.lr, total_steps=enc_cfg.steps,
                                                   pct_start=max(0.05, 3.0 / enc_cfg.steps))
    rng = np.random.default_rng(enc_cfg.seed)
    curve: list[list[float]] = []
    t0 = time.perf_counter()
    log(f"encoder pretraining: {len(train.pixels)} frames of {len(ids) - n_held} videos ({len(train.obj_frame)} "
        f"object examples), {enc_cfg.steps} steps of {enc_cfg.batch}")
    for step in range(1, enc_cfg.steps + 1):
        batch = torch.from_numpy(rng.choice(len(train.pixels), size=min(enc_cfg.batch, len(train.pixels)),
                                            replace=False))
        views = mirror if step % 2 else train  # alternate plain and mirrored batches
        loss, stats = _losses(_features(vit, views.pixels[batch], layer, prefix), heads, views, batch)
        if not math.isfinite(loss.item()):
            raise FloatingPointError(f"encoder pretraining loss is {loss.item()} at step {step}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        curve.append([step, float(loss.item())])
        if step % 100 == 0 or step == enc_cfg.steps:
            log(f"encoder step {step}/{enc_cfg.steps} loss {loss.item():.3f} "
                + " ".join(f"{k} {v:.2f}" for k, v in stats.items()))
    timing["train_s"] = time.perf_counter() - t0
    vit.eval()
    vit.requires_grad_(False)
    held_out = _evaluate(vit, heads, test, layer, prefix)
    out_dir.mkdir(parents=True, exist_ok=True)
    vit.save_pretrained(str(out_dir))
    timing["total_s"] = time.perf_counter() - start
    summary = EncoderPretrainSummary(out_dir=str(out_dir), steps=enc_cfg.steps, frames=int(len(train.pixels)),
                                     videos=len(ids) - n_held, objects=int(len(train.obj_frame)),
                                     first_loss=curve[0][1], final_loss=curve[-1][1], held_out=held_out,
                                     seconds={k: round(v, 2) for k, v in timing.items()}, loss_curve=curve)
    (out_dir / "pretrain.json").write_text(json.dumps(summary.to_dict(), indent=1))
    _plot(curve, out_dir / "loss.png")
    log(f"encoder held-out accuracy: " + ", ".join(f"{k} {v:.3f}" for k, v in held_out.items()))
    return summary


@torch.no_grad()
def _evaluate(vit: nn.Module, heads: _Heads, frames: _FrameSet, layer: int, prefix: int) -> dict[str, float]:
    if not len(frames.pixels):
        return {}
    totals: dict[str, list[float]] = {}
    for start in range(0, len(frames.pixels), 128):
        batch = torch.arange(start, min(start + 128, len(frames.pixels)))
        _, stats = _losses(_features(vit, frames.pixels[batch], layer, prefix), heads, frames, batch)
        for k, v in stats.items():
            if v == v:
                totals.setdefault(k, []).append(v)
    return {k: round(float(np.mean(v)), 4) for k, v in totals.items()}


def _plot(curve: list[list[float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot([c[0] for c in curve], [c[1] for c in curve], lw=1)
    ax.set(xlabel="step", ylabel="loss", title="vision encoder pretraining")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def world_training_videos(train_json: str | Path, world_dir: str | Path) -> list[str]:
    """Ids of the filtered dataset's kept videos that the world annotated (the encoder's training videos: only
    what the filtered dataset keeps for training, so benchmark videos and filtered-out ones are never seen)."""
    ann = Path(world_dir) / "annotations"
    samples = json.loads(Path(train_json).read_text())
    ids = {str(s.get("video_id") or s["id"]) for s in samples if s.get("video")}
    return sorted(vid for vid in ids if (ann / f"{vid}.json").is_file())
