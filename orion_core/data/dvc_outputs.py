"""The files ``dvc.yaml`` declares for the data stages, written from the Dagster side.

``dvc.yaml``'s ``manifest`` and ``filter`` stages run ``orion manifest`` and ``orion filter``; the data assets
write exactly those outputs (``data/manifest/{manifest.jsonl,summary.json}``, ``data/filtered/``) into the DVC
project, so ``dvc repro`` and the asset graph are one pipeline seen two ways. Recording them in ``dvc.lock`` and
pushing them is DVC's part (``orion_assets.resources.dvc.DvcResource.publish``); nothing here runs DVC.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from .dvc_hash import dvc_md5
from .manifest import summarize, write_jsonl

MANIFEST_OUT = "data/manifest"
FILTERED_OUT = "data/filtered"


def write_dvc_outputs(rows: list[dict], filtered: Path, repo: Path, data_versions: list[str]) -> dict[tuple[str, str], str]:
    """Write the manifest and a copy of the filtered dataset folder into the DVC project ``repo``.

    Returns ``{(stage, output path): DVC md5}`` for ``manifest`` and ``filter``, the values ``dvc.lock`` should hold.
    """
    repo = Path(repo)
    manifest_dir, filtered_dir = repo / MANIFEST_OUT, repo / FILTERED_OUT
    write_jsonl(rows, manifest_dir / "manifest.jsonl")
    summary = {"data_version": data_versions[0] if len(data_versions) == 1 else data_versions,
               "shards": len({r["shard"] for r in rows}), **summarize(rows)}
    (manifest_dir / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    if filtered_dir.exists():
        shutil.rmtree(filtered_dir)
    shutil.copytree(filtered, filtered_dir)
    return {("manifest", MANIFEST_OUT): dvc_md5(manifest_dir), ("filter", FILTERED_OUT): dvc_md5(filtered_dir)}
