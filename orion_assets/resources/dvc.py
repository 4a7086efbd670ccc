"""DVC through its own tool environment (``.venv-dvc``), driven by its CLI.

dvc's hydra pins antlr4 4.9, which breaks Dagster's string selections, so DVC cannot share Dagster's
environment; a subprocess with ``--json`` outputs keeps them apart (README: "Why two venvs"). Dagster owns execution:
assets write the same outputs that ``dvc.yaml`` declares, then ``commit`` records them in ``dvc.lock`` and
``push`` sends them to the default remote (a local folder in the embedded default, S3 in production).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Mapping

import dagster as dg

from orion_core.config import PROJECT_ROOT


class DvcError(RuntimeError):
    pass


class DvcResource(dg.ConfigurableResource):
    executable: str = str(PROJECT_ROOT / ".venv-dvc" / "bin" / "dvc")
    """The dvc executable (its own venv)."""
    repo: str = str(PROJECT_ROOT)
    """The DVC project folder (holds .dvc/ and dvc.yaml)."""
    push: bool = True
    """Push committed data to the default remote after each commit."""

    @classmethod
    def from_env(cls) -> "DvcResource":
        """``$ORION_DVC`` (the executable) and ``$ORION_DVC_REPO`` (the project) where set, else the defaults."""
        defaults = cls()
        return cls(executable=os.environ.get("ORION_DVC", defaults.executable),
                   repo=os.environ.get("ORION_DVC_REPO", defaults.repo))

    def available(self) -> bool:
        return Path(self.executable).is_file() or shutil.which(self.executable) is not None

    def run(self, *args: str, check: bool = True) -> str:
        if not self.available():
            raise DvcError(f"dvc not found at {self.executable}; run scripts/setup.sh (it builds .venv-dvc)")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        proc = subprocess.run([self.executable, *args], cwd=self.repo, env=env, capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise DvcError(f"dvc {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
        return proc.stdout

    def add(self, path: str) -> str:
        """``dvc add PATH``; returns the recorded md5."""
        self.run("add", "--quiet", path)
        import yaml

        return yaml.safe_load((Path(self.repo) / f"{path}.dvc").read_text())["outs"][0]["md5"]

    def commit(self, *stages: str) -> None:
        """Record the current outputs of ``stages`` in dvc.lock without re-running them."""
        self.run("commit", "--force", "--quiet", *stages)

    def push_targets(self, *targets: str) -> None:
        if self.push:
            self.run("push", "--quiet", *targets)

    def locked_md5(self, stage: str, out: str) -> str | None:
        """md5 that dvc.lock records for output ``out`` of ``stage`` (None when absent)."""
        import yaml

        lock = Path(self.repo) / "dvc.lock"
        if not lock.exists():
            return None
        stages = (yaml.safe_load(lock.read_text()) or {}).get("stages", {})
        return next((o.get("md5") for o in stages.get(stage, {}).get("outs", []) if o.get("path") == out), None)

    def publish(self, outputs: Mapping[tuple[str, str], str]) -> str:
        """Record stage outputs in dvc.lock and push them, unless dvc.lock already holds exactly these md5s.

        ``outputs`` is ``{(stage, output path): md5}`` (``orion_core.data.dvc_outputs.write_dvc_outputs``).
        Returns what happened, for the asset's metadata.
        """
        if all(self.locked_md5(stage, out) == md5 for (stage, out), md5 in outputs.items()):
            return "unchanged in dvc.lock"
        repo = Path(self.repo)
        if not (self.available() and (repo / "dvc.yaml").exists() and (repo / "data" / "raw.dvc").exists()):
            return "not available"
        stages = list(dict.fromkeys(stage for stage, _ in outputs))
        self.commit(*stages)
        self.push_targets(*stages)
        return "committed to dvc.lock" + (" and pushed" if self.push else "")

    def default_remote(self) -> tuple[str, str, str] | None:
        """``(name, url, endpointurl)`` of the default remote, read from ``.dvc/config`` (+ ``config.local``)
        without starting DVC; None when there is none."""
        import configparser

        parser = configparser.ConfigParser()
        parser.read([Path(self.repo) / ".dvc" / "config", Path(self.repo) / ".dvc" / "config.local"])
        name = parser.get("core", "remote", fallback="").strip()
        section = f'remote "{name}"'
        if not name or not parser.has_section(section):
            return None
        return name, parser.get(section, "url", fallback=""), parser.get(section, "endpointurl", fallback="")

    def check_remote(self) -> None:
        """Fail within seconds, naming the remote, when the default remote (S3 or HTTP) does not answer; a local
        folder remote is created by setup and needs no check."""
        from orion_core.preflight import check_endpoint, check_s3

        remote = self.default_remote() if self.push else None
        if remote is None:
            return
        name, url, endpoint = remote
        if url.startswith("s3://"):
            check_s3(url, endpoint_url=endpoint or None, service=f"DVC remote {name!r} (S3)")
        elif url.startswith(("http://", "https://")):
            check_endpoint(f"DVC remote {name!r}", url)

    def status(self) -> dict:
        out = self.run("status", "--json", check=False).strip()
        return json.loads(out) if out else {}
