"""Shared fixtures: offline WordNet, a tiny synthetic world, real services on loopback (moto S3)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
os.environ.setdefault("NLTK_DATA", str(ROOT / ".orion" / "nltk_data"))
os.environ.setdefault("ORION_MD5_CACHE", "/tmp/orion-test-md5-cache.json")

# Tests never touch the user's state: whatever the shell (or `make test`, which exports DAGSTER_HOME=dagster_home)
# says, every default store points into this session's own folder, set now, before any test module imports
# orion_assets.definitions (which builds its resources from the environment) or starts a server that inherits it.
# USER_STATE is checked unchanged at the end of the session (user_state_untouched below).
TEST_STATE = Path(tempfile.mkdtemp(prefix="orion-test-state-"))
(TEST_STATE / "dagster_home").mkdir()
shutil.copy(ROOT / "dagster_home" / "dagster.yaml", TEST_STATE / "dagster_home" / "dagster.yaml")
(TEST_STATE / "mlflow").mkdir()
os.environ.update({
    "DAGSTER_HOME": str(TEST_STATE / "dagster_home"), "ORION_STORE": str(TEST_STATE / "store"),
    "ORION_STORE_CACHE": str(TEST_STATE / "store-cache"),
    "ORION_MLFLOW_URI": f"sqlite:///{TEST_STATE / 'mlflow' / 'mlflow.db'}",
    "ORION_MLFLOW_ARTIFACTS": str(TEST_STATE / "mlflow" / "artifacts"), "ORION_DVC_REPO": str(TEST_STATE / "dvcproj"),
})
os.environ.pop("MLFLOW_TRACKING_URI", None)
for _name in ("ORION_PRESET", "ORION_OVERRIDES"):  # tests choose their own config
    os.environ.pop(_name, None)
USER_STATE = [ROOT / ".orion" / "mlflow", ROOT / ".orion" / "store", ROOT / ".orion" / "store-cache",
              ROOT / "dagster_home", ROOT / "data", ROOT / "dvc.lock"]


def state_fingerprint(paths=USER_STATE) -> dict[str, tuple[int, int]]:
    """(size, mtime_ns) of every file under ``paths``: what `make run` left for the user."""
    found = {}
    for top in paths:
        files = [top] if top.is_file() else (sorted(p for p in top.rglob("*") if p.is_file()) if top.is_dir() else [])
        for path in files:
            if path == ROOT / "dagster_home" / "dagster.yaml":  # tracked configuration, not state
                continue
            stat = path.stat()
            found[str(path)] = (stat.st_size, stat.st_mtime_ns)
    return found


@pytest.fixture(scope="session", autouse=True)
def user_state_untouched():
    """The whole session leaves the user's registry, aliases, store, Dagster instance and DVC outputs as they were
    (a test writing there fails the session at its end, naming the files)."""
    before = state_fingerprint()
    yield
    after = state_fingerprint()
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    shutil.rmtree(TEST_STATE, ignore_errors=True)
    assert not changed, f"the tests changed the user's state: {changed[:20]}"


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
