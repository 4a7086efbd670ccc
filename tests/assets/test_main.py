"""The main command (`make run`) fails fast and clearly: one line, no traceback, before any work starts."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT, free_port


def _main(*args: str, env: dict | None = None) -> tuple[int, list[str]]:
    proc = subprocess.run([sys.executable, "-m", "orion_assets.main", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env={**os.environ, **(env or {})})
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    return proc.returncode, [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]


def test_main_says_a_config_error_in_one_line():
    """Fault matrix: `video.t_v=abc` came with a full Python traceback."""
    code, lines = _main("video.t_v=abc")
    assert code == 2 and lines == [
        "[orion] error: ConfigError: video.t_v: expected int, got 'abc'  (--debug for the traceback)"]


def test_main_with_mlflow_unreachable_stops_in_one_line_before_any_work(tmp_path):
    """Fault matrix: an unreachable MLflow server made `make run` retry for 4 min 16 s, print ~300 lines with 11
    stack traces, and leave an empty checkpoint folder."""
    uri = f"http://127.0.0.1:{free_port()}"
    code, lines = _main(env={"ORION_MLFLOW_URI": uri, "ORION_STORE": str(tmp_path / "store")})
    assert code == 1 and lines == [f"[orion] error: ServiceUnreachable: MLflow tracking server at {uri} is "
                                   "unreachable: connection refused  (--debug for the traceback)"]
    assert not (tmp_path / "store").exists()  # nothing started: no snapshot, no checkpoint folder


def test_main_with_the_ray_cluster_unreachable_stops_in_one_line_before_any_work(tmp_path):
    """The scale-out services are checked like the others: a Ray address nobody answers is one line, at once."""
    address = f"127.0.0.1:{free_port()}"
    code, lines = _main(env={"ORION_RAY_ADDRESS": address, "ORION_STORE": str(tmp_path / "store")})
    assert code == 1 and lines == [f"[orion] error: ServiceUnreachable: Ray cluster (ORION_RAY_ADDRESS) at {address} "
                                   "is unreachable: connection refused  (--debug for the traceback)"]
    assert not (tmp_path / "store").exists()
