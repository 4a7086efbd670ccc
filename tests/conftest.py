"""Shared fixtures: offline WordNet, a tiny synthetic world, real services on loopback (moto S3)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
os.environ.setdefault("NLTK_DATA", str(ROOT / ".orion" / "nltk_data"))
# Tests never touch the developer's own store or Dagster instance.
os.environ.setdefault("ORION_MD5_CACHE", "/tmp/orion-test-md5-cache.json")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    import urllib.request

    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except Exception:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def start_service(cmd: list[str], log: Path, env: dict | None = None, cwd: Path | None = None) -> subprocess.Popen:
    """Start a server in its own session with default signal handlers, so stop_service can end it and its children."""
    fh = open(log, "wb")

    def _reset():
        os.setsid()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)

    return subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=cwd, preexec_fn=_reset)


def stop_service(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory):
    """A real S3-compatible server (moto) on loopback; yields its endpoint URL. Sets AWS_* env for boto3 and dvc."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    proc = start_service([str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], log)
    endpoint = f"http://127.0.0.1:{port}"
    old = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    try:
        wait_http(endpoint, 30, proc)
        yield endpoint
    finally:
        stop_service(proc)
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="session")
def tiny_config():
    from orion_core.config import load_preset

    return load_preset("tiny-cpu", [
        "world.num_pretrain=6", "world.num_instruct=4", "world.num_benchmark=4", "world.num_long=1",
        "world.num_corrupt=2", "data.shard_size=8",
    ])


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory, tiny_config) -> Path:
    """A small synthetic world (a few videos per split, 2 corrupt files), generated once per test session."""
    from orion_core.data.synthetic import generate_world

    out = tmp_path_factory.mktemp("world") / "raw"
    generate_world(tiny_config.world, out, progress=False)
    return out


@pytest.fixture
def world_copy(tiny_world, tmp_path) -> Path:
    """A private copy of the tiny world that a test may change."""
    dest = tmp_path / "raw"
    shutil.copytree(tiny_world, dest)
    return dest


DVC = ROOT / ".venv-dvc" / "bin" / "dvc"


def dvc_env() -> dict:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def run_dvc(*args: str, cwd: Path) -> str:
    proc = subprocess.run([str(DVC), *args], cwd=cwd, env=dvc_env(), capture_output=True, text=True)
    assert proc.returncode == 0, f"dvc {' '.join(args)} failed: {proc.stderr}\n{proc.stdout}"
    return proc.stdout
