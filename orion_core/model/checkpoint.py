"""Checkpoints: safetensors weights plus a JSON file with everything needed to rebuild the model.

Layout of a checkpoint directory::

    orion_checkpoint.json   format version, the full OrionConfig, the vision/LLM transformers configs,
                            which modules the weights file holds
    model.safetensors       weights of those modules (names as in ``VideoOrion.state_dict()``)
    tokenizer/              the tokenizer (``save_pretrained``), so no hub or vocab file is needed to load
    SHA256SUMS              sha256 of every file above (:mod:`orion_core.contracts.integrity`), checked on load

Saving all modules makes the directory self-contained: loading rebuilds the exact architectures from the
stored transformers configs and never touches ``vision_path``/``llm_path``. Saving a subset (``modules=``,
e.g. the projectors after stages 1-2) keeps it small; loading then builds the rest from the stored preset
(its paths or sizes) and overlays the saved modules.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Sequence

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoConfig, AutoTokenizer, PreTrainedTokenizerBase
from transformers.initialization import no_init_weights

from orion_core.config import OrionConfig
from orion_core.config.base import from_dict
from orion_core.contracts.integrity import is_tree_sealed, seal_tree, verify_tree
from orion_core.weights import MissingWeightsError

from .builders import build_videoorion
from .orion import VideoOrion

FORMAT = 1
META_FILE = "orion_checkpoint.json"
WEIGHTS_FILE = "model.safetensors"
MODULES = ("vision_encoder", "video_projector", "object_projector", "llm")


def save_checkpoint(model: VideoOrion, directory: str | Path, *, config: OrionConfig,
                    tokenizer: PreTrainedTokenizerBase | None = None, modules: Sequence[str] = MODULES,
                    state_dict: dict[str, torch.Tensor] | None = None, extra: dict | None = None) -> Path:
    """Write ``model`` (or the given ``state_dict``, e.g. gathered from a ZeRO-3 engine) to ``directory``.

    Returns the directory. ``extra`` is stored as-is in the JSON (lineage facts, stage, step).
    """
    unknown = sorted(set(modules) - set(MODULES))
    if unknown:
        raise ValueError(f"unknown modules {unknown}; choose from {MODULES}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = state_dict if state_dict is not None else model.state_dict()
    keep = {k: v for k, v in state.items() if k.split(".", 1)[0] in modules}
    # safetensors refuses tensors sharing storage (tied embeddings): store each storage once, contiguous.
    seen: dict[int, str] = {}
    tensors: dict[str, torch.Tensor] = {}
    for name, tensor in keep.items():
        ptr = tensor.untyped_storage().data_ptr() if tensor.device.type != "meta" else id(tensor)
        tensors[name] = tensor.detach().clone().contiguous() if ptr in seen else tensor.detach().contiguous()
        seen.setdefault(ptr, name)
    save_file(tensors, str(directory / WEIGHTS_FILE), metadata={"format": str(FORMAT)})
    meta = {
        "format": FORMAT,
        "modules": list(modules),
        "config": config.to_dict(),
        "vision_config": model.vision_encoder.model.config.to_dict(),
        "llm_config": model.llm.config.to_dict(),
        "extra": extra or {},
    }
    (directory / META_FILE).write_text(json.dumps(meta, indent=2, default=str))
    if tokenizer is not None:
        tokenizer.save_pretrained(str(directory / "tokenizer"))
    seal_tree(directory)
    return directory


def read_checkpoint_meta(directory: str | Path) -> dict:
    path = Path(directory) / META_FILE
    if not path.is_file():
        raise MissingWeightsError(f"no VideoOrion checkpoint at {Path(directory)} (missing {path})")
    meta = json.loads(path.read_text())
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: checkpoint format {meta.get('format')!r}, this code reads {FORMAT}")
    return meta


def load_checkpoint(directory: str | Path, *, device: str | torch.device = "cpu",
                    dtype: torch.dtype = torch.float32) -> tuple[VideoOrion, PreTrainedTokenizerBase | None, OrionConfig]:
    """Rebuild the model saved in ``directory``; returns (model, tokenizer or None, config).

    A sealed checkpoint (``SHA256SUMS``, every one this code writes) is verified first: a flipped bit raises
    :class:`~orion_core.contracts.integrity.IntegrityError` naming the file instead of loading other weights.
    """
    directory = Path(directory)
    meta = read_checkpoint_meta(directory)
    weights = directory / WEIGHTS_FILE
    if not weights.is_file():
        raise MissingWeightsError(f"checkpoint weights not found at {weights}")
    if is_tree_sealed(directory):
        verify_tree(directory)
    config = from_dict(OrionConfig, meta["config"])
    complete = set(meta["modules"]) == set(MODULES)
    kwargs = {}
    if complete:
        vis, llm = meta["vision_config"], meta["llm_config"]
        kwargs = {"vision_hf_config": AutoConfig.for_model(vis.pop("model_type"), **vis),
                  "llm_hf_config": AutoConfig.for_model(llm.pop("model_type"), **llm)}
    # Every weight is about to be overwritten: skip random initialisation (minutes for a 7B model on CPU).
    with no_init_weights() if complete else contextlib.nullcontext():
        model = build_videoorion(config, device=device, dtype=dtype, **kwargs)
    state = load_file(str(weights), device=str(torch.device(device)))
    own = model.state_dict()
    expected = {k for k in own if k.split(".", 1)[0] in meta["modules"]}
    missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
    if missing or unexpected:
        raise ValueError(f"{weights}: missing {missing[:5]} / unexpected {unexpected[:5]} "
                         f"({len(missing)} / {len(unexpected)} keys)")
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()}, strict=False)
    tok_dir = directory / "tokenizer"
    tokenizer = AutoTokenizer.from_pretrained(str(tok_dir), local_files_only=True) if tok_dir.is_dir() else None
    return model, tokenizer, config
