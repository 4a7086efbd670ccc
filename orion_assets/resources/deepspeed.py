"""Launch a training job out of process through Dagster Pipes, under the DeepSpeed launcher.

The job (``orion_assets/training/pipes_job.py``) runs as N ranks: ``deepspeed --num_gpus N`` on one node (CPU ranks
use gloo), ``--hostfile`` across nodes, or a bare ``python`` process for a single rank (no launcher, the rank
environment is set here). Rank 0 opens Dagster Pipes, so its log lines and metrics stream into the Dagster run and
its final metadata lands on the materialization.

Cancelling the Dagster run interrupts the step; then every process of the job is stopped, not only the one
Dagster started: SIGINT to the launcher (the DeepSpeed launcher forwards it to its ranks and, over pdsh, to other
nodes), then SIGTERM and finally SIGKILL to whatever is left of the whole process tree (collected with psutil, so
ranks that a dying launcher left behind are found too). Dagster's stock ``PipesSubprocessClient`` only signals
the process it started and gives up after a timeout, which can leave ranks running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Mapping, Sequence

import dagster as dg

from orion_core.config import PROJECT_ROOT

LAUNCHERS = ("auto", "deepspeed", "python")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_tree(root: int) -> list:
    """``root`` and all its descendants that are alive (psutil.Process objects)."""
    import psutil

    try:
        top = psutil.Process(root)
        return [top, *top.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def stop_process_tree(proc: subprocess.Popen, *, grace: float, term_grace: float = 5.0) -> int:
    """Stop ``proc`` and every descendant: SIGINT to ``proc``, then SIGTERM, then SIGKILL to all left.

    Returns how many processes there were. Descendants are re-collected while waiting, since a launcher may
    still be spawning ranks when the cancel arrives, and remembered, since a dying launcher orphans them.
    """
    import psutil

    seen = {p.pid: p for p in process_tree(proc.pid)}

    def running(p) -> bool:
        try:
            return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    def alive() -> list:
        if proc.poll() is None:
            seen.update({p.pid: p for p in process_tree(proc.pid)})
        return [p for p in seen.values() if running(p)]

    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    for sig, wait in ((None, grace), (signal.SIGTERM, term_grace), (signal.SIGKILL, term_grace)):
        if sig is not None:
            for p in alive():
                try:
                    p.send_signal(sig)
                except psutil.NoSuchProcess:
                    pass
        deadline = time.monotonic() + wait
        while alive() and time.monotonic() < deadline:
            time.sleep(0.2)
            proc.poll()  # reap our own child so it does not linger as a zombie
        if not alive():
            break
    proc.poll()
    return len(seen)


class DeepSpeedLauncher(dg.ConfigurableResource):
    num_procs: int = 1
    """Ranks per node: one per GPU on a GPU node; CPU ranks (gloo) otherwise (``$ORION_TRAIN_PROCS`` in ``from_env``)."""
    launcher: str = "auto"
    """``deepspeed`` (the DeepSpeed launcher), ``python`` (one rank, no launcher) or ``auto`` (python for a single
    local rank, deepspeed otherwise; ``$ORION_TRAIN_LAUNCHER`` in ``from_env``)."""
    hostfile: str = ""
    """DeepSpeed hostfile for multi-node training (``--hostfile``); empty = this node only."""
    master_addr: str = "127.0.0.1"
    """Address of rank 0 (the first host of the hostfile in multi-node runs)."""
    master_port: int = 0
    """Rendezvous port (0 = pick a free one per launch)."""
    grace_seconds: float = 20.0
    """After a cancel, how long the ranks get to exit on SIGINT before SIGTERM/SIGKILL."""

    @classmethod
    def from_env(cls) -> "DeepSpeedLauncher":
        """Ranks and launcher from ``$ORION_TRAIN_PROCS`` / ``$ORION_TRAIN_LAUNCHER``, a multi-node hostfile and rank
        0's address from ``$ORION_TRAIN_HOSTFILE`` / ``$ORION_TRAIN_MASTER_ADDR`` (read now), else the defaults."""
        env = os.environ
        return cls(num_procs=int(env.get("ORION_TRAIN_PROCS", "1")), launcher=env.get("ORION_TRAIN_LAUNCHER", "auto"),
                   hostfile=env.get("ORION_TRAIN_HOSTFILE", ""),
                   master_addr=env.get("ORION_TRAIN_MASTER_ADDR", "127.0.0.1"))

    def mode(self) -> str:
        if self.launcher not in LAUNCHERS:
            raise ValueError(f"launcher {self.launcher!r} is not one of {list(LAUNCHERS)}")
        if self.launcher != "auto":
            return self.launcher
        return "python" if self.num_procs == 1 and not self.hostfile else "deepspeed"

    def world_size(self) -> int:
        return self.num_procs if not self.hostfile else 0  # 0: decided by the hostfile's slots

    def command(self, script: str | Path, args: Sequence[str], port: int) -> list[str]:
        """The command line that starts every rank of ``script``."""
        if self.num_procs < 1:
            raise ValueError(f"num_procs must be >= 1, got {self.num_procs}")
        if self.mode() == "python":
            if self.num_procs != 1 or self.hostfile:
                raise ValueError("launcher=python runs exactly one local rank; use launcher=deepspeed")
            return [sys.executable, "-u", str(script), *args]
        where = ["--hostfile", self.hostfile] if self.hostfile else ["--num_gpus", str(self.num_procs)]
        return [sys.executable, "-u", "-m", "deepspeed.launcher.runner", *where, "--master_addr", self.master_addr,
                "--master_port", str(port), "--no_local_rank", str(script), *args]

    def rank_env(self, port: int) -> dict[str, str]:
        """What a rank needs to join the process group when no launcher sets it (python mode)."""
        if self.mode() != "python":
            return {}
        return {"RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "1", "LOCAL_WORLD_SIZE": "1",
                "MASTER_ADDR": self.master_addr, "MASTER_PORT": str(port)}

    def run(self, context, *, script: str | Path, args: Sequence[str], env: Mapping[str, str] | None = None,
            extras: Mapping | None = None) -> dg.PipesClientCompletedInvocation:
        """Run the job to completion inside a Pipes session; raise dg.Failure when it fails."""
        port = self.master_port or _free_port()
        cmd = self.command(script, args, port)
        context.log.info(f"launching ({self.mode()}, {self.num_procs} rank(s)): {' '.join(cmd)}")
        with dg.open_pipes_session(context=context, context_injector=dg.PipesTempFileContextInjector(),
                                   message_reader=dg.PipesTempFileMessageReader(),
                                   extras=dict(extras or {})) as session:
            path = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
            full_env = {**os.environ, "PYTHONPATH": path, **self.rank_env(port), **(env or {}),
                        **session.get_bootstrap_env_vars()}
            proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=full_env)
            try:
                code = proc.wait()
            except BaseException:  # DagsterExecutionInterruptedError when the run is cancelled, KeyboardInterrupt
                count = stop_process_tree(proc, grace=self.grace_seconds)
                context.log.warning(f"training interrupted: stopped the launcher and its ranks ({count} processes)")
                raise
            if code != 0:
                raise dg.Failure(f"training job exited with code {code}; its log lines are in this run's events "
                                 "and stderr (compute logs)")
        return dg.PipesClientCompletedInvocation(session)
