"""Decode once, encode once, pool once: the frozen encoder's features of one video (see the package docstring)."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import torch

from orion_core.config import OrionConfig
from orion_core.contracts.integrity import IntegrityError
from orion_core.contracts.masklist import MaskList
from orion_core.model.mask_pooling import masks_to_grid, pool_objects
from orion_core.model.object_projector import cap_objects
from orion_core.model.vision_encoder import VisionEncoder

from .store import FeatureStore, VideoFeatures, features_key

logger = logging.getLogger(__name__)


def object_coverage(masklist: MaskList, frame_indices: Sequence[int], frame_size: tuple[int, int], *,
                    image_size: int, grid: tuple[int, int], resize_mode: str) -> tuple[torch.Tensor, np.ndarray]:
    """Patch coverage (N, T, h, w) float of every object of ``masklist`` on ``frame_indices``, and keep (N,) bool.

    Masks only matter at patch resolution, so they are decoded at (at most) the encoder's scale in the frames'
    own aspect (64 objects x 64 HD frames at full size would be gigabytes), then area-resized to the patch grid
    with the frames' pad/crop geometry. An object too thin to survive the nearest-neighbour shrink is measured
    at full size instead, so it keeps its (small) coverage rather than vanishing. ``keep`` is False for objects
    with no mask pixel on any of the frames (nothing to pool).
    """
    h, w = frame_size
    side = min(h, w) if resize_mode == "crop" else max(h, w)
    scale = min(1.0, image_size / side)
    dh, dw = max(1, round(h * scale)), max(1, round(w * scale))
    dense = masklist.dense(list(frame_indices), dh, dw)  # (N, T, dh, dw) bool
    coverage = masks_to_grid(torch.from_numpy(dense), grid=grid, resize_mode=resize_mode)  # (N, T, h, w)
    for k in np.flatnonzero(~dense.reshape(dense.shape[0], -1).any(axis=1)) if scale < 1 else ():
        full = masklist.dense(list(frame_indices))[k:k + 1]  # (1, T, H, W): one object at full size
        coverage[k] = masks_to_grid(torch.from_numpy(full), grid=grid, resize_mode=resize_mode)[0]
    keep = (coverage.flatten(1).sum(1) > 0).numpy()
    return coverage, keep


def feature_geometry(config: OrionConfig) -> dict[str, Any]:
    """What besides the encoder weights decides a video's cached features under ``config`` (part of every content
    address): context frames, frame size and squaring, pixel statistics, the object-token cap at compute time."""
    from orion_core.video.transforms import encoder_statistics

    v, m = config.video, config.model
    mean, std = encoder_statistics(m.vision_encoder)
    return {"t_v": v.t_v, "image_size": v.image_size, "resize_mode": v.resize_mode,
            "statistics": [list(mean), list(std)], "max_objects": m.max_object_tokens}


def weights_digest(module: torch.nn.Module) -> str:
    """sha256 (16 hex) of a module's parameters and buffers, by name: the identity of frozen weights."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(str(tuple(tensor.shape)).encode() + str(tensor.dtype).encode())
        digest.update(tensor.detach().to("cpu").contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]


def encoder_digest(encoder: VisionEncoder) -> str:
    """Identity of a frozen vision encoder: its weights and the layer whose features both branches read."""
    return f"{weights_digest(encoder.model)}-l{encoder.feature_layer}"


@dataclass
class FeatureEncoder:
    """A frozen vision encoder with the geometry the model feeds it (frame size, squaring, statistics, t_v)."""

    encoder: VisionEncoder
    config: OrionConfig
    device: str = "cpu"
    batch_size: int = 64
    """Frames encoded per forward."""
    digest: str = field(default="")

    def __post_init__(self) -> None:
        from orion_core.video.transforms import encoder_statistics

        self.encoder = self.encoder.to(self.device).eval()
        self.mean, self.std = encoder_statistics(self.config.model.vision_encoder)
        if not self.digest:
            self.digest = encoder_digest(self.encoder)

    @classmethod
    def from_config(cls, config: OrionConfig, *, device: str = "cpu", seed: int | None = None) -> "FeatureEncoder":
        """The encoder the preset names (``model.vision_path``, or random weights of its sizes seeded as a training
        job seeds them, ``train.seed``, so a job built from the same config has this very encoder)."""
        from orion_core.model.builders import build_vision_encoder, seeded

        with seeded(config.train.seed if seed is None else seed):
            encoder = build_vision_encoder(config.model, image_size=config.video.image_size, device=device)
        return cls(encoder=encoder, config=config, device=device)

    @property
    def grid(self) -> tuple[int, int]:
        return self.encoder.grid

    def geometry(self) -> dict[str, Any]:
        """What besides the weights decides the features (part of every content address)."""
        return feature_geometry(self.config)

    def key(self, video_digest: str, masks_digest: str | None) -> str:
        return features_key(video_digest=video_digest, masks_digest=masks_digest, encoder=self.digest,
                            geometry=self.geometry())

    @torch.no_grad()
    def encode(self, images: np.ndarray) -> torch.Tensor:
        """(K, H, W, 3) uint8 frames -> (K, h, w, D) float32 patch features on the CPU."""
        from orion_core.video.transforms import to_encoder_input

        out = []
        for start in range(0, len(images), self.batch_size):
            x = to_encoder_input(images[start:start + self.batch_size], size=self.config.video.image_size,
                                 mode=self.config.video.resize_mode, mean=self.mean, std=self.std)
            out.append(self.encoder(x.to(self.device)).float().cpu())
        return torch.cat(out) if out else torch.zeros(0, *self.grid, self.encoder.hidden_size)


def compute_features(path: str | Path, masklist: MaskList | None, encoder: FeatureEncoder) -> VideoFeatures:
    """Features of the video at ``path``: t_v context frames and the mask list's tracked frames, decoded in one
    pass and encoded once; objects pooled per frame. Raises ``VideoError`` for an unreadable video."""
    from orion_core.video.decode import read_frames
    from orion_core.video.probe import check_video
    from orion_core.video.sampling import uniform_indices

    cfg = encoder.config
    info = check_video(str(path), decode=False)
    context_idx = [0] if info.is_image else uniform_indices(info.frames, cfg.video.t_v)
    tracked = masklist.pooled_frames() if masklist is not None else []
    if tracked and max(tracked) >= info.frames:
        raise ValueError(f"mask list tracks frame {max(tracked)} but {path} has {info.frames} frames")
    wanted = sorted(set(context_idx) | set(tracked))
    images = read_frames(str(path), wanted, decoder=cfg.video.decoder, info=info)  # (U, H, W, 3)
    where = {f: j for j, f in enumerate(wanted)}
    context = encoder.encode(images[[where[i] for i in context_idx]])  # (t_v or 1, h, w, D)
    dim = context.shape[-1]
    objects, present = torch.zeros(0, len(tracked), dim), torch.zeros(0, len(tracked), dtype=torch.bool)
    labels: tuple[str, ...] = ()
    dropped = masklist.num_objects if masklist is not None else 0
    if tracked:
        coverage, keep = object_coverage(masklist, tracked, images.shape[1:3], image_size=cfg.video.image_size,
                                         grid=encoder.grid, resize_mode=cfg.video.resize_mode)
        kept, _ = cap_objects(np.flatnonzero(keep), cfg.model.max_object_tokens)
        dropped = masklist.num_objects - len(kept)
        labels = tuple(masklist.labels[int(k)] for k in kept)
        if len(kept):
            frame_feats = encoder.encode(images[[where[i] for i in tracked]])  # (T_o, h, w, D)
            pooled, present = pool_objects(frame_feats[None], coverage[kept][None], per_frame=True)
            objects, present = pooled[0], present[0]  # (N, T_o, D), (N, T_o)
    return VideoFeatures(context=context, objects=objects, present=present, labels=labels,
                         frame_indices=tuple(tracked), dropped=int(dropped), encoder=encoder.digest)


@dataclass
class FeatureReport:
    """What :func:`features_for_videos` did: per video done / cached / failed (with the reason)."""

    index: dict[str, str | None] = field(default_factory=dict)
    """video_id -> path of its features file (None: failed)."""
    status: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    recomputed: dict[str, str] = field(default_factory=dict)
    """video_id -> why its stored features were not reused (they failed their integrity check), naming the file."""
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        out = {"done": 0, "cached": 0, "failed": 0}
        for s in self.status.values():
            out[s] += 1
        return out


def features_for_videos(videos: Iterable[tuple[str, Path, Path | None]], encoder: FeatureEncoder,
                        store: FeatureStore, *, progress: bool = False) -> FeatureReport:
    """Make sure every ``(video_id, video path, mask-list path or None)`` has its features in ``store``.

    Stored features are reused only when they match their seal; a file that does not is reported (log and
    ``report.recomputed``, with its path), moved aside as ``*.corrupt`` and computed again, never used. A video whose
    file or mask list cannot be read is recorded as failed with its reason and the rest go on.
    """

    from tqdm import tqdm

    from orion_core.contracts.digests import file_sha256, path_sha256
    from orion_core.contracts.masklist import MaskListError
    from orion_core.video.errors import VideoError

    report = FeatureReport()
    start = time.perf_counter()
    items = list(videos)
    for video_id, path, masks_path in tqdm(items, desc="features", unit="video", disable=not progress):

        def corrupt(exc: IntegrityError, video_id: str = video_id) -> None:
            report.recomputed[video_id] = f"{exc}; moved aside as {exc.path.name}.corrupt and recomputed"
            logger.warning(report.recomputed[video_id])

        try:
            masklist = MaskList.load(masks_path) if masks_path is not None else None
            masks_digest = file_sha256(masks_path) if masks_path is not None else None
            key = encoder.key(path_sha256(path), masks_digest)  # a file, or a folder of frames
            if store.reusable(key, report=corrupt):
                report.status[video_id] = "cached"
            else:
                store.save(key, compute_features(path, masklist, encoder))
                report.status[video_id] = "done"
            report.index[video_id] = str(store.path(key))
        except (VideoError, MaskListError, ValueError, OSError, UnicodeDecodeError) as exc:
            report.status[video_id] = "failed"
            report.index[video_id] = None
            report.errors[video_id] = f"{type(exc).__name__}: {exc}"
    report.seconds = time.perf_counter() - start
    return report
