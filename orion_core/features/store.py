"""Where cached features live and what one entry holds (see the package docstring)."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from safetensors.torch import load_file, save_file

from orion_core.contracts.digests import json_digest
from orion_core.contracts.integrity import IntegrityError, reusable, seal

FORMAT_VERSION = 1
"""Bump when what an entry holds changes (invalidates every cached entry)."""


@dataclass(frozen=True)
class VideoFeatures:
    """What the frozen encoder makes of one video for one model geometry."""

    context: torch.Tensor
    """(t_v, h, w, D) patch features of the t_v uniform context frames ((1, h, w, D) for an image)."""
    objects: torch.Tensor
    """(N, T_o, D) area-weighted mask pooling of each object on each object frame (zeros where absent)."""
    present: torch.Tensor
    """(N, T_o) bool: the object has mask pixels on that frame."""
    labels: tuple[str, ...]
    """Label of each of the N objects (mask-list order, objects without any pixel dropped)."""
    frame_indices: tuple[int, ...]
    """Video frame index of each of the T_o object frames."""
    dropped: int = 0
    """Objects of the mask list left out: no mask pixel on any object frame, or beyond the object-token cap."""
    encoder: str = ""
    """Digest of the encoder weights that made them (``orion_core.features.compute.encoder_digest``): a training
    job refuses features of another encoder than its model's."""

    @property
    def num_objects(self) -> int:
        return int(self.objects.shape[0])

    def sample_fields(self) -> dict[str, Any]:
        """The keys :func:`orion_core.model.collate.collate` reads for cached features."""
        fields: dict[str, Any] = {"context_features": self.context}
        if self.num_objects:
            fields.update(object_features=self.objects, object_present=self.present)
        return fields


def features_key(*, video_digest: str, masks_digest: str | None, encoder: str, geometry: dict[str, Any]) -> str:
    """Content address of one entry: the video's bytes, its mask list, the encoder weights, the input geometry."""
    return json_digest({"video": video_digest, "masks": masks_digest, "encoder": encoder, "geometry": geometry,
                        "format": FORMAT_VERSION})


class FeatureStore:
    """``<root>/<key[:2]>/<key>.safetensors``: one file per entry, written to a temporary name and renamed, then
    sealed (``<file>.sha256``, :mod:`orion_core.contracts.integrity`) so a reuse can tell the bytes are intact."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.safetensors"

    def has(self, key: str) -> bool:
        return self.path(key).is_file()

    def reusable(self, key: str, *, report: Callable[[IntegrityError], None] | None = None) -> bool:
        """Whether the entry at ``key`` exists and matches its seal; one that does not (changed bytes, or no seal:
        an interrupted writer) is handed to ``report``, moved aside as ``*.corrupt`` and must be computed again."""
        return reusable(self.path(key), report=report)

    def save(self, key: str, features: VideoFeatures) -> Path:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tensors = {"context": features.context.to(torch.float16).contiguous(),
                   "objects": features.objects.to(torch.float16).contiguous(),
                   "present": features.present.to(torch.uint8).contiguous()}
        meta = {"labels": json.dumps(list(features.labels)), "frame_indices": json.dumps(list(features.frame_indices)),
                "dropped": str(features.dropped), "key": key, "encoder": features.encoder}
        fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        try:
            save_file(tensors, tmp, metadata=meta)
            os.replace(tmp, path)  # a killed writer never leaves a half file under the real name
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        seal(path)  # after the rename: a file without its seal is never reused
        return path

    def load(self, key: str) -> VideoFeatures:
        """The entry at ``key``; raises FileNotFoundError when absent, ValueError when unreadable."""
        path = self.path(key)
        if not path.is_file():
            raise FileNotFoundError(f"no cached features at {path}")
        return self.read(path)

    @staticmethod
    def read(path: str | Path) -> VideoFeatures:
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="pt") as f:
                meta = f.metadata() or {}
            tensors = load_file(str(path))
            return VideoFeatures(context=tensors["context"].float(), objects=tensors["objects"].float(),
                                 present=tensors["present"].bool(), labels=tuple(json.loads(meta["labels"])),
                                 frame_indices=tuple(json.loads(meta["frame_indices"])),
                                 dropped=int(meta.get("dropped", 0)), encoder=meta.get("encoder", ""))
        except (OSError, KeyError, ValueError, json.JSONDecodeError, RuntimeError) as exc:
            raise ValueError(f"cached features at {path} are unreadable ({type(exc).__name__}: {exc})") from None
