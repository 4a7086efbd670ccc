"""Where the models run: one device setting for every expert, scorer and encoder, and mixed precision on GPUs.

Read by the detect-segment-track experts, the dataset filters' CLIP scorer, ``orion masks`` / ``orion filter`` /
``orion ask`` and the Dagster assets alike (:func:`orion_core.devices.resolve_device` turns ``auto`` into a real
device). Not part of any content address: it says where the work runs, not what it computes (``OrionConfig.digest``
leaves this section out), so moving a run from CPU to GPU does not invalidate finished outputs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .base import check, check_choice

DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda|mps)(:\d+)?$")


@dataclass(frozen=True, kw_only=True)
class ComputeConfig:
    device: str = "auto"
    """``auto`` (the first CUDA GPU when there is one, else the CPU), ``cpu``, ``cuda``, ``cuda:N`` or ``mps``."""
    autocast: str = "auto"
    """Mixed precision of the frozen models' forwards: ``auto`` (bf16 autocast on CUDA, none on CPU), ``bf16``
    (bf16 autocast on any device, CPU included), ``fp16`` or ``off`` (fp32 everywhere)."""

    def __post_init__(self) -> None:
        check(bool(DEVICE_PATTERN.match(self.device)),
              f"compute.device={self.device!r} is not auto, cpu, cuda, cuda:N or mps")
        check(not (self.device.startswith("auto") and ":" in self.device), "compute.device=auto takes no index")
        check_choice("compute.autocast", self.autocast, ("auto", "bf16", "fp16", "off"))
