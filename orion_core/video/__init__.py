"""Video I/O for Orion: probing (typed errors for bad input), decode-once uniform frame sampling with decord
(PyAV fallback), and the encoder-input transforms. Images are single-frame videos throughout; a folder of frame
images is a video whose frame i is its i-th image file in natural name order (``frame_files``).

Heavy submodules are imported on use; ``from orion_core.video import sample_frames`` works.
"""

from __future__ import annotations

from .errors import (
    EmptyFileError,
    MissingFileError,
    NotAVideoError,
    NoVideoStreamError,
    TruncatedVideoError,
    UndecodableError,
    VideoError,
)
from .folder import frame_files
from .probe import VideoInfo, check_video, probe, probe_many

_LAZY = {
    "Frames": "sampling", "load_visual": "sampling", "sample_frames": "sampling", "uniform_indices": "sampling",
    "DecodeStats": "decode", "read_all_frames": "decode", "read_frames": "decode",
    "CLIP_MEAN": "transforms", "CLIP_STD": "transforms", "SIGLIP_MEAN": "transforms", "SIGLIP_STD": "transforms",
    "to_encoder_input": "transforms",
}


def __getattr__(name: str):
    # Lazy so `orion probe` does not import decord or torch.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "EmptyFileError", "MissingFileError", "NotAVideoError", "NoVideoStreamError", "TruncatedVideoError",
    "UndecodableError", "VideoError", "VideoInfo", "check_video", "frame_files", "probe", "probe_many", *_LAZY,
]
