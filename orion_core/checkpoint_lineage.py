"""The facts a checkpoint carries: which data versions, code commit, config and parent checkpoint made it.

Plain Python (no Dagster, no MLflow): the orchestration layer fills a :class:`CheckpointLineage`, writes it next
to the weights (``lineage.json``) and turns it into tracking tags with :meth:`CheckpointLineage.tags`. Reading a
checkpoint's lineage back never needs the tracking server: the JSON travels with the export.

Tag keys are stable strings that an auditor can search on in MLflow, e.g.
``tags.`orion.dataset.filtered_dataset.digest` = '...'`` or ``tags.`mlflow.source.git.commit` = '...'``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orion_core.config import PROJECT_ROOT
from orion_core.contracts.integrity import add_to_tree_seal, is_tree_sealed

LINEAGE_FILE = "lineage.json"
MODEL_NAME = "videoorion-stage{stage}"
"""Registered model name of each stage's checkpoint."""
ENCODER_MODEL_NAME = "videoorion-vision-encoder"
"""Registered model name of the frozen vision encoder (stage 0 in a lineage: what every stage encodes with)."""


class LineageError(ValueError):
    """A lineage fact is missing or malformed (e.g. a dataset without a digest)."""


@dataclass(frozen=True, kw_only=True)
class GitRevision:
    commit: str
    """Full commit hash of the code, or ``unknown`` outside a git checkout without ``$ORION_GIT_COMMIT``."""
    dirty: bool
    """Tracked files differ from the commit (the run used uncommitted code)."""


def git_revision(root: str | Path = PROJECT_ROOT) -> GitRevision:
    """The commit of ``root`` and whether tracked files are modified.

    Container images usually ship without ``.git``: they set ``$ORION_GIT_COMMIT`` at build time, which wins.
    Untracked files are ignored (data, caches and outputs live in the tree and are not code).
    """
    pinned = os.environ.get("ORION_GIT_COMMIT", "").strip()
    if pinned:
        return GitRevision(commit=pinned, dirty=False)
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                check=True, timeout=30).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                                capture_output=True, text=True, check=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        # Recorded explicitly as unknown (never invented): the tag then shows the code version was not known.
        return GitRevision(commit="unknown", dirty=True)
    return GitRevision(commit=commit, dirty=bool(status.strip()))


@dataclass(frozen=True, kw_only=True)
class DatasetRef:
    name: str
    """Dataset name, e.g. ``raw_videos``, ``filtered_dataset``, ``object_masks``."""
    digest: str
    """Content digest: the DVC md5 (``<md5>.dir`` for folders) or another content hash."""
    source: str
    """Where the data lives: a local path or an ``s3://`` URI."""
    version: str = ""
    """The asset's data version when it differs from ``digest`` (e.g. the train.json digest)."""

    def __post_init__(self) -> None:
        if not self.name or not self.digest or not self.source:
            raise LineageError(f"dataset needs a name, a digest and a source: {self}")


@dataclass(frozen=True, kw_only=True)
class ParentCheckpoint:
    model_name: str
    """Registered model name of the parent, e.g. ``videoorion-stage1``."""
    version: str
    """Its registered model version."""
    run_id: str
    """The tracking run that produced it."""
    path: str
    """Where its exported weights live (the ``--init`` directory)."""


@dataclass(frozen=True, kw_only=True)
class CheckpointLineage:
    stage: int
    """Training stage 1, 2 or 3; 0 for the frozen vision encoder itself."""
    preset: str
    """Config preset name."""
    config_digest: str
    """Digest of the effective config (preset + overrides)."""
    git: GitRevision
    datasets: tuple[DatasetRef, ...]
    """Every input dataset with its digest."""
    parent: ParentCheckpoint | None = None
    """The checkpoint this stage started from (None for stage 1)."""
    run_id: str = ""
    """The orchestrator's run id (the Dagster run)."""
    asset_key: str = ""
    """The orchestrator's name for the checkpoint (the Dagster asset key)."""
    extra: dict[str, str] = field(default_factory=dict)
    """Further string facts (world size, overrides, ...)."""
    encoder: ParentCheckpoint | None = None
    """The registered frozen vision encoder the stage encoded frames with (its own model in the registry)."""
    name: str = ""
    """Registered model name; empty: ``videoorion-stage<N>`` (or the encoder's name for stage 0). Experiments
    register under their own names (``videoorion-exp-<variant>``) with the same lineage tags."""

    def __post_init__(self) -> None:
        if self.stage not in (0, 1, 2, 3, 4):
            raise LineageError(f"stage must be 0 (vision encoder), 1, 2, 3 or 4 (referring fine-tune), got {self.stage}")
        if self.stage > 1 and self.parent is None:
            raise LineageError(f"stage {self.stage} needs a parent checkpoint")
        names = [d.name for d in self.datasets]
        if len(set(names)) != len(names):
            raise LineageError(f"duplicate dataset names {names}")

    @property
    def model_name(self) -> str:
        if self.name:
            return self.name
        return ENCODER_MODEL_NAME if self.stage == 0 else MODEL_NAME.format(stage=self.stage)

    def tags(self) -> dict[str, str]:
        """Flat string tags for a tracking run and its registered model version."""
        tags = {
            "orion.stage": str(self.stage), "orion.preset": self.preset, "orion.config_digest": self.config_digest,
            "mlflow.source.git.commit": self.git.commit, "orion.git_dirty": str(self.git.dirty).lower(),
            "dagster.run_id": self.run_id, "dagster.asset_key": self.asset_key,
        }
        for d in self.datasets:
            tags[f"orion.dataset.{d.name}.digest"] = d.digest
            tags[f"orion.dataset.{d.name}.source"] = d.source
            if d.version:
                tags[f"orion.dataset.{d.name}.version"] = d.version
        if self.parent is not None:
            tags.update({"orion.parent.model": self.parent.model_name, "orion.parent.version": self.parent.version,
                         "orion.parent.run_id": self.parent.run_id, "orion.parent.path": self.parent.path})
        if self.encoder is not None:
            tags.update({"orion.encoder.model": self.encoder.model_name, "orion.encoder.version": self.encoder.version,
                         "orion.encoder.run_id": self.encoder.run_id, "orion.encoder.path": self.encoder.path})
        tags.update({f"orion.{k}": str(v) for k, v in self.extra.items()})
        return {k: v for k, v in tags.items() if v != ""}

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CheckpointLineage":
        parent = data.get("parent")
        encoder = data.get("encoder")
        return cls(**{**data, "git": GitRevision(**data["git"]),
                      "datasets": tuple(DatasetRef(**d) for d in data["datasets"]),
                      "parent": ParentCheckpoint(**parent) if parent else None,
                      "encoder": ParentCheckpoint(**encoder) if encoder else None})

    def write(self, directory: str | Path) -> Path:
        path = Path(directory) / LINEAGE_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")
        if is_tree_sealed(directory):  # a sealed checkpoint export: the lineage becomes part of what is verified
            add_to_tree_seal(directory, path)
        return path


def read_lineage(directory: str | Path) -> CheckpointLineage:
    """The lineage written next to a checkpoint; names the file it looked for when absent."""
    path = Path(directory) / LINEAGE_FILE
    if not path.is_file():
        raise LineageError(f"no lineage at {path}")
    return CheckpointLineage.from_dict(json.loads(path.read_text()))
