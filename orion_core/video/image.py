"""Still images as single-frame videos.

VideoLLaMA2-style training mixes images into the video stream; Orion treats a jpg/png/bmp/webp as a video
of exactly one frame (no frame rate, duration 0) so probing, sampling and the encoder transforms need no
second code path downstream. Pillow decodes them; its errors map onto the same typed :mod:`errors`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import NotAVideoError, TruncatedVideoError, UndecodableError

IMAGE_EXTENSIONS: frozenset[str] = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})


def is_image_path(path: str | os.PathLike) -> bool:
    """True when the file name ends in an image extension (case-insensitive)."""
    return os.path.splitext(os.fspath(path))[1].lower() in IMAGE_EXTENSIONS


@dataclass(frozen=True)
class ImageFacts:
    width: int
    height: int
    codec: str
    """Pillow's format name, lower case (``jpeg``, ``png``, ``bmp``, ``webp``)."""


def _open_rgb(path: str) -> tuple[Image.Image, str]:
    """Open and fully decode ``path`` (``load`` is what catches truncation; ``open`` reads only the header)."""
    try:
        image = Image.open(path)
        fmt = (image.format or "image").lower()
        image.load()
    except UnidentifiedImageError as exc:
        raise NotAVideoError(path, f"no image format recognised ({exc})") from exc
    except OSError as exc:
        if "truncated" in str(exc):
            raise TruncatedVideoError(path, str(exc)) from exc
        raise UndecodableError(path, str(exc)) from exc
    except (SyntaxError, ValueError) as exc:  # Pillow plugins raise these for corrupt headers/chunks
        raise UndecodableError(path, f"{type(exc).__name__}: {exc}") from exc
    return image.convert("RGB"), fmt


def inspect_image(path: str) -> ImageFacts:
    """Decode ``path`` once to prove it is a usable image; raise a typed :class:`VideoError` otherwise."""
    image, fmt = _open_rgb(path)
    return ImageFacts(width=image.width, height=image.height, codec=fmt)


def read_image(path: str) -> np.ndarray:
    """The image at ``path`` as RGB pixels.

    Returns:
        (H, W, 3) uint8
    """
    image, _ = _open_rgb(path)
    return np.asarray(image, dtype=np.uint8).copy()  # copy: Pillow's buffer is read-only
