"""Process group, model and DeepSpeed engine of a training job.

* :func:`init_distributed`: under the ``deepspeed`` launcher the environment names rank and world size; a
  plain ``python -m orion_core.train`` becomes a one-rank group on a free loopback port, so both paths run the
  same engine code. CPU ranks talk over gloo, GPU ranks over NCCL.
* :func:`build_model`: from ``--init`` (a ``save_checkpoint`` directory, architecture checked against the
  preset) or from the preset (seeded random weights / local paths, and ``model.video_projector_path``).
* :func:`build_engine`: freezes all but the stage's modules, fills the DeepSpeed JSON and wraps the model with
  the stage's optimizer and a warm-up + cosine (or constant) schedule.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from orion_core.config import OrionConfig

from .ds_config import build_ds_config
from .errors import InitMismatchError
from .job import StagePlan

# Fields that say where weights come from, not what the architecture is: an --init checkpoint carries its
# own weights, so these may differ between its config and the job's.
_WEIGHT_SOURCES = ("vision_path", "llm_path", "video_projector_path", "llm_attn_implementation")
# Fields that say how the built model is used, not what it holds: a run may differ from its parent in them (the
# object-only model and the object-token caps of Tables 10 and 11 start from stage 2); builders.configure_use.
_USE_SETTINGS = ("context_tokens", "max_object_tokens")
# A parent whose object projector no stage trained (a stage-1 export) may start another projector kind (Table 7):
# the job builds its own, seeded, and takes every other module from the parent.
_UNTRAINED_OBJECT_PROJECTOR_STAGES = (1,)


@dataclass(frozen=True)
class Dist:
    """This process's place in the job."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
    except (OSError, ValueError):
        return False


def _init_group_on_master_addr(*, backend: str) -> None:
    """Join the process group through a rendezvous store that listens on ``MASTER_ADDR`` only.

    torch's ``env://`` rendezvous makes rank 0's TCPStore listen on every interface whatever ``MASTER_ADDR`` says,
    so a job meant for loopback would take connections from the network. Here rank 0 binds the listening socket to
    ``MASTER_ADDR:MASTER_PORT`` itself and hands it to the store (``master_listen_fd``); with a loopback master,
    gloo's pair sockets are kept on loopback too (``GLOO_SOCKET_IFNAME=lo`` unless set). The group is then
    initialised here and DeepSpeed's ``init_distributed`` finds it ready.
    """
    from datetime import timedelta

    host, port = os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    if _loopback(host):
        os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    timeout = timedelta(minutes=30)  # torch's default for the store's first contact
    listen_fd = None
    if rank == 0:
        listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(1024)
        listen_fd = listener.detach()  # the store owns the descriptor from now on
    store = torch.distributed.TCPStore(host, port, world, rank == 0, timeout, master_listen_fd=listen_fd)
    torch.distributed.init_process_group(backend, store=store, rank=rank, world_size=world, timeout=timeout)


def init_distributed() -> Dist:
    """Join (or make) the process group; returns this rank's :class:`Dist`."""
    if "RANK" not in os.environ:  # not under a launcher: a group of one
        os.environ.update(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1")
        os.environ.setdefault("MASTER_PORT", str(_free_port()))
    # Name the accelerator instead of letting DeepSpeed guess (its guess logs a warning on stdout).
    os.environ.setdefault("DS_ACCELERATOR", "cuda" if torch.cuda.is_available() else "cpu")
    import deepspeed
    from deepspeed.accelerator import get_accelerator

    accelerator = get_accelerator()
    on_cpu = accelerator.device_name() == "cpu"
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if not on_cpu:
        accelerator.set_device(local_rank)
    if not torch.distributed.is_initialized():
        _init_group_on_master_addr(backend="gloo" if on_cpu else "nccl")
    # Idempotent: a second job in the same process (tests, the benchmark) reuses the group. DeepSpeed prints
    # op-build notes on stdout, which belongs to the JSON-lines reporter: send them to stderr.
    with contextlib.redirect_stdout(sys.stderr):
        deepspeed.init_distributed(dist_backend="gloo" if on_cpu else None, auto_mpi_discovery=False, verbose=False)
    device = torch.device("cpu") if on_cpu else torch.device(accelerator.device_name(), local_rank)
    if on_cpu and "OMP_NUM_THREADS" not in os.environ:
        # ranks on one machine share its cores; oversubscribed intra-op threads slow small ops several-fold
        local = int(os.environ.get("LOCAL_SIZE", os.environ.get("WORLD_SIZE", "1")))
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // max(1, local)))
    return Dist(rank=torch.distributed.get_rank(), world_size=torch.distributed.get_world_size(),
                local_rank=local_rank, device=device)


def effective_precision(config: OrionConfig, device: torch.device) -> str:
    """The preset's precision on an accelerator; fp32 on CPU (no fast bf16 kernels there)."""
    return config.train.precision if device.type != "cpu" else "fp32"


def _architecture(config: OrionConfig) -> dict[str, Any]:
    model = {k: v for k, v in config.to_dict()["model"].items() if k not in _WEIGHT_SOURCES + _USE_SETTINGS}
    return {"model": model, "image_size": config.video.image_size}


def build_model(config: OrionConfig, *, init: Path | None, distributed: bool) -> tuple[Any, Any, dict]:
    """(model, tokenizer, parent facts). ``distributed``: run both branches on every batch (see VideoOrion)."""
    from orion_core.model.builders import build_videoorion, configure_use, replace_object_projector
    from orion_core.model.checkpoint import load_checkpoint, read_checkpoint_meta
    from orion_core.model.tokenizer import build_tokenizer

    parent: dict[str, Any] = {}
    if init is not None:
        model, tokenizer, init_config = load_checkpoint(init)
        meta = read_checkpoint_meta(init)
        mine, theirs = _architecture(config), _architecture(init_config)
        fresh_projector = False
        if mine != theirs:
            diff = sorted(k for k in {**mine["model"], **theirs["model"]}
                          if mine["model"].get(k) != theirs["model"].get(k))
            # t_v is no architecture: the STC connector convolves over time, so a run may see more context frames
            # than its parent did (Table 4's equal-frames control); the frame size is.
            diff += [k for k in ("image_size",) if mine[k] != theirs[k]]
            untrained = meta.get("extra", {}).get("stage") in _UNTRAINED_OBJECT_PROJECTOR_STAGES
            if diff != ["object_projector"] or not untrained:
                raise InitMismatchError(f"--init {init} was built with another architecture than the preset: {diff}"
                                        + ("" if diff != ["object_projector"] else
                                           " (another object projector kind starts only from a stage-1 checkpoint, "
                                           "whose object projector no stage trained)"))
            fresh_projector = True
        parent = {"path": str(Path(init).resolve()), "config_digest": init_config.digest(),
                  **{k: meta.get("extra", {}).get(k) for k in ("stage", "steps", "run_key")}}
        if fresh_projector:
            replace_object_projector(model, config, seed=config.train.seed)
            parent["fresh_modules"] = ["object_projector"]
        tokenizer = tokenizer or build_tokenizer(config.model)
        # The job's way of using the parent's weights: its context frames (more or fewer than the parent saw),
        # context tokens on or off, its object-token cap.
        configure_use(model, config)
    else:
        model = build_videoorion(config, seed=config.train.seed)
        tokenizer = build_tokenizer(config.model)
    # DDP / ZeRO-3 ranks must all run (and gather) the same modules, whatever their batch holds.
    model.always_run_branches = distributed or config.train.zero_stage == 3
    return model, tokenizer, parent


def build_engine(model: Any, *, config: OrionConfig, stage: int, plan: StagePlan, dist: Dist,
                 precision: str) -> Any:
    """DeepSpeed engine over the stage's trainable parameters (the rest frozen)."""
    import deepspeed
    from transformers import get_constant_schedule_with_warmup, get_cosine_schedule_with_warmup

    model.set_stage(stage)
    params = model.parameter_groups(stage, projector_lr=config.train.stage(stage).projector_lr)
    ds_config = build_ds_config(config, stage=stage, world_size=dist.world_size, precision=precision)
    total, warmup = max(plan.total_steps, 1), plan.warmup_steps

    def schedule(optimizer: torch.optim.Optimizer) -> Any:
        # A client scheduler: DeepSpeed steps it at each accumulation boundary and saves its state.
        if config.train.schedule == "cosine":
            return get_cosine_schedule_with_warmup(optimizer, num_warmup_steps=warmup, num_training_steps=total)
        return get_constant_schedule_with_warmup(optimizer, num_warmup_steps=warmup)

    engine, _, _, _ = deepspeed.initialize(model=model, model_parameters=params, config=ds_config,
                                           lr_scheduler=schedule)
    return engine
