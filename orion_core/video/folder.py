"""A folder of frame images as a video: frame i is the i-th image file of the folder in natural name order.

Published referring datasets ship their videos this way (VideoRef45K ``frames/<clip>/00001.jpg``, VID-Sentence
``Data/VID/<split>/<video>/000000.JPEG``, LaSOT ``<class>-<n>/img/00000001.jpg``). :func:`frame_files` is the one
home of the frame-order rule: the referring loaders (:mod:`orion_core.data.referring`) map annotated frames to
indices with it and :func:`orion_core.video.decode.read_frames` reads index i from ``frame_files(folder)[i]``, so a
box and the pixels it is drawn on cannot disagree.

A folder stores no frame rate: ``check_video(folder, fps=...)`` takes one, else ``fps`` is None and
``duration_s`` None (timestamps NaN), as for a container that declares no rate.

Checks, in the spirit of :mod:`.container`'s levels (every error names the folder; its detail names the frame):

1. **Listing** (always): image files by extension (none: "not a video"); files numbered ``<prefix><n><ext>``
   must step evenly (a hole - 1, 2, 4 - is "missing file": every later frame would sit at the wrong index
   for anything that counts frames by name; two files with one number - 1.jpg, 01.jpg - have no defined order:
   "not a video"); the first image's header gives width, height and the codec (``jpeg-folder``).
2. **Decode** (``decode=True``, what ``probe`` does): every image's header (each must be an image of the first
   one's size: "undecodable" otherwise), and the first and last image decoded. A header costs a file open and
   a few hundred bytes, so a 3000-frame folder is checked in a fraction of a second; decoding every JPEG is not
   (seconds per folder), exactly as a video's probe decodes only its ends.
3. **Deep** (``deep=True``): every image decoded.

Readers decode only the requested files and check each against the probed size; a frame that became
unreadable after the probe raises the same typed errors.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import (
    EmptyFileError,
    MissingFileError,
    NotAVideoError,
    TruncatedVideoError,
    UndecodableError,
    VideoError,
)
from .image import IMAGE_EXTENSIONS, read_image

FOLDER_CODEC_SUFFIX = "-folder"
"""``VideoInfo.codec`` of a folder is the first image's Pillow format plus this (``jpeg-folder``)."""


def _natural(name: str) -> list:
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", name)]


def frame_files(folder: str | os.PathLike) -> list[str]:
    """The image files of a folder of frames, in frame order (natural name order): frame i is ``files[i]``.

    Image files are those with an image extension (:data:`orion_core.video.image.IMAGE_EXTENSIONS`, any case);
    natural order compares digit runs as numbers (``2.jpg`` before ``10.jpg``). Names only, not paths.
    """
    names = [n for n in os.listdir(folder) if os.path.splitext(n)[1].lower() in IMAGE_EXTENSIONS]
    return sorted(names, key=_natural)


@dataclass(frozen=True)
class FolderFacts:
    """Checked facts about a folder of frames."""

    frames: int
    width: int
    height: int
    codec: str
    """Pillow format of the first image plus ``-folder`` (``jpeg-folder``, ``png-folder``)."""


# ---- one frame file -------------------------------------------------------------------------------------------------


def _frame_error(folder: str, index: int, name: str, error: VideoError | OSError) -> VideoError:
    """The typed error for frame ``index`` (file ``name``) of ``folder``: path = the folder, detail = the frame."""
    path = os.path.join(folder, name)
    where = f"frame {index} ({name})"
    if not os.path.exists(path):  # vanished since the listing, or a dangling symlink (datasets are often linked in)
        link = f" (dangling link to {os.readlink(path)})" if os.path.islink(path) else ""
        return MissingFileError(folder, f"{where}: no such file{link}")
    if os.path.isfile(path) and os.path.getsize(path) == 0:
        return EmptyFileError(folder, f"{where}: 0 bytes")
    if isinstance(error, VideoError):
        return type(error)(folder, f"{where}: {error.reason}: {error.detail}")
    return UndecodableError(folder, f"{where}: cannot read the file: {error}")


def _header(folder: str, index: int, name: str) -> tuple[int, int, str]:
    """(width, height, format) from the header of frame ``index``, without decoding its pixels."""
    path = os.path.join(folder, name)
    try:
        with Image.open(path) as image:
            return int(image.width), int(image.height), (image.format or "image").lower()
    except UnidentifiedImageError as exc:
        raise _frame_error(folder, index, name, NotAVideoError(path, f"no image format recognised ({exc})")) from exc
    except OSError as exc:
        kind = TruncatedVideoError if "truncated" in str(exc).lower() else UndecodableError  # "Truncated File Read"
        raise _frame_error(folder, index, name, kind(path, str(exc))) from exc
    except (SyntaxError, ValueError) as exc:  # Pillow plugins raise these for corrupt headers
        raise _frame_error(folder, index, name, UndecodableError(path, f"{type(exc).__name__}: {exc}")) from exc


def _decode(folder: str, index: int, name: str) -> np.ndarray:
    """Frame ``index`` decoded: (H, W, 3) uint8 RGB."""
    try:
        return read_image(os.path.join(folder, name))
    except VideoError as exc:
        raise _frame_error(folder, index, name, exc) from exc


def _size_error(folder: str, index: int, name: str, got: tuple[int, int], want: tuple[int, int],
                first: str) -> UndecodableError:
    return UndecodableError(folder, f"frame {index} ({name}) is {got[0]}x{got[1]} but frame 0 ({first}) is "
                                    f"{want[0]}x{want[1]}: the frames of one video share one size")


# ---- the folder -----------------------------------------------------------------------------------------------------

_NUMBERED = re.compile(r"^(.*?)(\d+)(\.[^.]+)$")


def _check_numbering(folder: str, names: Sequence[str]) -> None:
    """Files numbered ``<prefix><n><ext>`` (one prefix for all) must step evenly; see the module doc."""
    matches = [_NUMBERED.match(n) for n in names]
    if len(names) < 2 or not all(matches) or len({(m.group(1), m.group(3).lower()) for m in matches}) != 1:
        return
    numbers = [int(m.group(2)) for m in matches]
    steps = [b - a for a, b in zip(numbers, numbers[1:])]  # natural order: never negative
    if 0 in steps:
        k = steps.index(0)
        raise NotAVideoError(folder, f"frame files {names[k]} and {names[k + 1]} carry the same number "
                                     f"{numbers[k]}: their order is undefined")
    step = min(steps)
    for k, s in enumerate(steps):
        if s != step:
            lost = f"{(s // step) - 1} frame file(s)" if s % step == 0 else "frame files"
            every = "consecutively" if step == 1 else f"every {step}"
            raise MissingFileError(folder, f"{lost} missing between {names[k]} and {names[k + 1]} "
                                           f"(the other files are numbered {every}); frame {k + 1} onwards "
                                           f"would be at the wrong index")


def list_frames(folder: str) -> list[str]:
    """:func:`frame_files` with the listing's failures as typed errors (the folder itself is the path)."""
    try:
        return frame_files(folder)
    except OSError as exc:  # permissions, I/O errors
        raise UndecodableError(folder, f"cannot list the folder: {exc}") from exc


def inspect_folder(folder: str, *, decode: bool = True, deep: bool = False) -> FolderFacts:
    """Check a folder of frames at the level asked for (module doc) and return its facts.

    Raises:
        NotAVideoError (no image files; files sharing a number; a file that is no image), MissingFileError (a hole
        in the numbering, a dangling link), EmptyFileError (a 0-byte frame), TruncatedVideoError,
        UndecodableError (a frame of another size; a frame the decoder rejects; an unlistable folder)
    """
    names = list_frames(folder)
    if not names:
        listed = len(os.listdir(folder))
        exts = "/".join(sorted(IMAGE_EXTENSIONS))
        raise NotAVideoError(folder, f"a directory with no image files (none of its {listed} entries is a "
                                     f"{exts} file)" if listed else "an empty directory (no image files)")
    _check_numbering(folder, names)
    width, height, fmt = _header(folder, 0, names[0])
    if decode or deep:
        for index, name in enumerate(names[1:], start=1):
            w, h, _ = _header(folder, index, name)
            if (w, h) != (width, height):
                raise _size_error(folder, index, name, (w, h), (width, height), names[0])
        for index in range(len(names)) if deep else sorted({0, len(names) - 1}):
            _decode(folder, index, names[index])  # headers matched, so the decoded size matches too
    return FolderFacts(frames=len(names), width=width, height=height, codec=fmt + FOLDER_CODEC_SUFFIX)


def read_folder_frames(folder: str, wanted: Sequence[int], *, frames: int, width: int, height: int) -> np.ndarray:
    """Frames ``wanted`` of a probed folder (``frames`` images of ``width`` x ``height``), decoding only their files.

    Returns:
        (K, H, W, 3) uint8 RGB, ``K == len(wanted)``, in the order of ``wanted`` (repeats decode again: pass
        unique indices, as ``read_frames`` does).

    Raises:
        The typed errors of :func:`inspect_folder` for the frames read; UndecodableError when the folder no
        longer holds ``frames`` images (it changed since the probe: indices would shift).
    """
    names = list_frames(folder)
    if len(names) != frames:
        raise UndecodableError(folder, f"the folder holds {len(names)} image files but was probed with {frames}: "
                                       f"it changed since, and frame indices would shift")
    out = np.empty((len(wanted), height, width, 3), dtype=np.uint8)  # (K, H, W, 3)
    for j, index in enumerate(wanted):
        image = _decode(folder, index, names[index])  # (H, W, 3)
        if image.shape[:2] != (height, width):
            raise _size_error(folder, index, names[index], (image.shape[1], image.shape[0]), (width, height),
                              names[0])
        out[j] = image
    return out


__all__ = ["FOLDER_CODEC_SUFFIX", "FolderFacts", "frame_files", "inspect_folder", "list_frames",
           "read_folder_frames"]
