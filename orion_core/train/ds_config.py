"""DeepSpeed configs kept as files (``configs/deepspeed/zero2.json``, ``zero3.json``), completed from the preset.

The files hold what does not depend on the run (ZeRO stage, buckets, optimizer betas/eps). Values written as
``"auto"`` (the Hugging Face convention) are filled from the preset and the launch: batch sizes and gradient
accumulation from the stage and the world size, learning rate / weight decay / clipping from ``train``, and
the precision block. An ``"auto"`` this module does not know raises, so a new key never slips through
unset; so does a file whose ZeRO stage differs from ``train.zero_stage``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from orion_core.config import PROJECT_ROOT, ConfigError, OrionConfig


def ds_config_path(config: OrionConfig) -> Path:
    """The JSON file a config names (``train.deepspeed_config``) or ``configs/deepspeed/zero{stage}.json``."""
    name = config.train.deepspeed_config or f"configs/deepspeed/zero{config.train.zero_stage}.json"
    path = Path(name)
    return path if path.is_absolute() else PROJECT_ROOT / path


def grad_accumulation(global_batch: int, micro_batch: int, world_size: int) -> int:
    """Gradient accumulation steps so that micro_batch x steps x world == global_batch (or ConfigError)."""
    per_step = micro_batch * world_size
    if global_batch % per_step:
        raise ConfigError(f"global_batch={global_batch} is not a multiple of micro_batch x world size = "
                          f"{micro_batch} x {world_size}; change the stage's batch sizes or the process count")
    return global_batch // per_step


def build_ds_config(config: OrionConfig, *, stage: int, world_size: int, precision: str) -> dict[str, Any]:
    """The complete DeepSpeed config dict for ``stage`` on ``world_size`` ranks.

    ``precision`` is the effective one (fp32 on CPU whatever the preset says). The files ask for torch's
    AdamW (``torch_adam``): DeepSpeed's fused kernel is not prebuilt in this install and would JIT-build.
    """
    path = ds_config_path(config)
    if not path.is_file():
        raise ConfigError(f"DeepSpeed config not found at {path} (train.deepspeed_config / train.zero_stage="
                          f"{config.train.zero_stage})")
    raw = json.loads(path.read_text())
    recipe = config.train.stage(stage)
    accumulation = grad_accumulation(recipe.global_batch, recipe.micro_batch, world_size)
    values = {
        "train_batch_size": recipe.global_batch,
        "train_micro_batch_size_per_gpu": recipe.micro_batch,
        "gradient_accumulation_steps": accumulation,
        "gradient_clipping": config.train.grad_clip,
        "optimizer.params.lr": recipe.lr,
        "optimizer.params.weight_decay": config.train.weight_decay,
        "bf16.enabled": precision == "bf16",
        "fp16.enabled": precision == "fp16",
        "zero_optimization.stage": config.train.zero_stage,
    }
    filled = _fill(copy.deepcopy(raw), values, "", path)
    file_stage = filled.get("zero_optimization", {}).get("stage", 0)
    if file_stage != config.train.zero_stage:
        raise ConfigError(f"{path} configures ZeRO stage {file_stage} but train.zero_stage={config.train.zero_stage}")
    return filled


def _fill(node: Any, values: dict[str, Any], prefix: str, path: Path) -> Any:
    if isinstance(node, dict):
        return {k: _fill(v, values, f"{prefix}{k}" if not prefix else f"{prefix}.{k}", path) for k, v in node.items()}
    if node == "auto":
        if prefix not in values:
            raise ConfigError(f"{path}: '{prefix}' is \"auto\" but nothing fills it (known: {sorted(values)})")
        return values[prefix]
    return node
