"""The device and mixed precision every model of a run uses, from ``config.compute`` (one setting for all).

    device = resolve_device(config.compute)          # "cuda" on a GPU box under "auto", else "cpu"
    with autocast(device, config.compute):           # bf16 autocast on CUDA (``auto``), nothing on CPU
        ...forward passes of frozen models...

torch is imported inside the functions: importing this module stays cheap for the classical (OpenCV) paths.
"""

from __future__ import annotations

import contextlib
from typing import ContextManager

from orion_core.config import ComputeConfig


class DeviceUnavailableError(RuntimeError):
    """The configured device does not exist on this machine."""


def resolve_device(compute: ComputeConfig) -> str:
    """``compute.device`` as a concrete torch device string; ``auto`` -> ``cuda`` when CUDA is available, else ``cpu``.

    Raises DeviceUnavailableError for an explicit ``cuda``/``mps`` device this machine lacks (one line that says
    which), rather than letting the first ``.to()`` fail deep inside a model.
    """
    import torch

    wanted = compute.device
    if wanted == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if wanted.startswith("cuda"):
        index = int(wanted.split(":")[1]) if ":" in wanted else 0
        if not torch.cuda.is_available() or index >= torch.cuda.device_count():
            raise DeviceUnavailableError(f"compute.device={wanted!r} but this machine has "
                                         f"{torch.cuda.device_count() if torch.cuda.is_available() else 'no'} CUDA "
                                         f"device(s); use compute.device=auto or cpu")
    if wanted.startswith("mps") and not torch.backends.mps.is_available():
        raise DeviceUnavailableError("compute.device='mps' but MPS is not available here; use auto or cpu")
    return wanted


def autocast_dtype(device: str, compute: ComputeConfig):
    """The autocast dtype for ``device`` under ``compute.autocast`` (None: plain fp32)."""
    import torch

    kind = device.split(":")[0]
    setting = compute.autocast
    if setting == "off" or (setting == "auto" and kind != "cuda"):
        return None
    return torch.float16 if setting == "fp16" else torch.bfloat16


def autocast(device: str, compute: ComputeConfig) -> ContextManager:
    """``torch.autocast`` for ``device`` with :func:`autocast_dtype`, or a no-op context when that is None."""
    dtype = autocast_dtype(device, compute)
    if dtype is None:
        return contextlib.nullcontext()
    import torch

    return torch.autocast(device_type=device.split(":")[0], dtype=dtype)
