"""raw_videos -> video_manifest (per shard) -> filtered_dataset. Each asset calls one orion_core function."""


import json
import shutil
from pathlib import Path

import dagster as dg

from orion_core.codeversion import code_digest
from orion_core.contracts.digests import json_digest
from orion_core.data.manifest import build_manifest, read_jsonl, summarize, write_jsonl

from ..metadata import plain, png_markdown, table_md
from ..partitions import SHARDS, shard_partitions
from .ingest import gone_shards, new_shards, observation_metadata, take_snapshot

RESOURCES = {"orion", "store"}
# Probing/downloading from S3 is the flaky part: retry it rather than fail a whole shard run.
IO_RETRY = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL)
BAD_FRACTION_CHECK = "bad_fraction_within_limit"


@dg.observable_source_asset(
    name="raw_videos", group_name="data", required_resource_keys=RESOURCES,
    description="Raw videos (local folder or S3 prefix). Data version = the DVC md5 of the data.",
)
def raw_videos(context) -> dg.ObserveResult:
    snap = take_snapshot(context.resources.orion.load(), context.resources.store)
    added = new_shards(context.instance, snap)
    if added:  # shards are registered on ingest so per-shard assets can be launched for them
        context.instance.add_dynamic_partitions(SHARDS, added)
    for key in gone_shards(context.instance, snap):
        context.instance.delete_dynamic_partition(SHARDS, key)
    return dg.ObserveResult(data_version=dg.DataVersion(snap.version),
                            metadata={**observation_metadata(snap), "shards_added": len(added)})


@dg.asset(
    partitions_def=shard_partitions, deps=[raw_videos], group_name="data", required_resource_keys=RESOURCES,
    automation_condition=dg.AutomationCondition.eager(), retry_policy=IO_RETRY,
    check_specs=[dg.AssetCheckSpec(BAD_FRACTION_CHECK, asset="video_manifest", blocking=True,
                                   description="bad (undecodable) fraction of the shard <= data.max_bad_fraction")],
    description="Every video of the shard probed: duration, fps, size, codec, decodable? Bad ones listed with reasons.",
)
def video_manifest(context: dg.AssetExecutionContext):
    orion, store = context.resources.orion, context.resources.store
    config = orion.load()
    snap = take_snapshot(config, store)
    shard = context.partition_key
    if shard not in snap.shards:
        raise dg.Failure(f"{shard} is not a shard of the current raw data (version {snap.version}); re-observe raw_videos")
    md5s = {f.relpath: f.digest for f in snap.files}
    digest = json_digest([[r, md5s[r]] for r in snap.shards[shard]] + [config.digest("video"),
                         code_digest("orion_core.data.manifest", "orion_core.video")], compact=False)
    path = store.path("video_manifest", digest, shard) / "manifest.jsonl"
    cached = path.exists()
    rows = read_jsonl(path) if cached else build_manifest(snap, [shard], endpoint_url=config.data.s3_endpoint_url)
    if not cached:
        write_jsonl(rows, path)
    summary = summarize(rows)
    bad = [r for r in rows if not r["ok"]]
    yield dg.Output(
        {"path": str(path), "data_version": snap.version, "shard": shard},
        data_version=dg.DataVersion(digest),
        metadata={**orion.metadata(), **{k: plain(v) for k, v in summary.items()}, "cached": cached,
                  "output_path": str(path), "raw_data_version": snap.version,
                  "bad_videos": table_md(bad, ["relpath", "error"])},
    )
    limit = config.data.max_bad_fraction
    yield dg.AssetCheckResult(
        check_name=BAD_FRACTION_CHECK, passed=summary["bad_fraction"] <= limit,
        metadata={"bad_fraction": summary["bad_fraction"], "limit": limit, "bad": summary["bad"]},
        description=f"{summary['bad']} of {summary['videos']} videos undecodable (limit {limit:.0%})",
    )


@dg.asset(
    ins={"video_manifest": dg.AssetIn(partition_mapping=dg.AllPartitionMapping())}, group_name="data",
    required_resource_keys=RESOURCES | {"dvc"}, automation_condition=dg.AutomationCondition.eager(),
    description="Quality + caption-similarity + concept-balance filtered training manifest (conversation format), "
                "DVC-versioned.",
)
def filtered_dataset(context: dg.AssetExecutionContext, video_manifest: dict) -> dg.Output:
    from orion_core.data.filters import filter_dataset, write_filtered

    orion, store, dvc = context.resources.orion, context.resources.store, context.resources.dvc
    config = orion.load()
    if isinstance(video_manifest.get("path"), str):  # the IO manager hands over a lone partition's value bare
        video_manifest = {video_manifest["shard"]: video_manifest}
    rows = sorted((r for shard in sorted(video_manifest) for r in read_jsonl(Path(video_manifest[shard]["path"]))),
                  key=lambda r: r["relpath"])
    data_versions = sorted({p["data_version"] for p in video_manifest.values()})
    if len(data_versions) > 1:  # never mix shards probed from two versions of the raw data
        raise dg.Failure(f"video_manifest shards come from several raw data versions {data_versions}; "
                         "re-materialize video_manifest for every shard of the current version")
    digest = json_digest([[r["relpath"], r["md5"], r["ok"]] for r in rows]
                         + [config.digest("data", "video"), code_digest("orion_core.data.filters")], compact=False)
    out = store.path("filtered_dataset", digest)
    cached = (out / "train.json").exists() and (out / "report.json").exists()
    if cached:  # same manifests + same config: the filter already ran
        report = json.loads((out / "report.json").read_text())
    else:
        report = write_filtered(filter_dataset(rows, config), out)
        report.pop("paths", None)
    published = publish_for_dvc(rows, out, data_versions, dvc)
    counts = report.get("counts", {})
    metadata = {**orion.metadata(), "cached": cached, "output_path": str(out), "dataset_version": report["version"],
                "raw_data_version": data_versions[0], **published,
                **{k: plain(v) for k, v in counts.items()}, "thresholds": plain(report.get("thresholds", {}))}
    if (out / "scores.png").exists():
        metadata["score_histogram"] = png_markdown(out / "scores.png", "filter scores")
    # The data version is the digest of train.json alone, so a re-run that keeps the same samples is not "new data".
    return dg.Output({"path": str(out), "train_json": str(out / "train.json"), "dataset_version": report["version"],
                      "dvc_md5": published["dvc_md5"]},
                     data_version=dg.DataVersion(report["version"]), metadata=metadata)


def publish_for_dvc(rows: list[dict], out: Path, data_versions: list[str], dvc) -> dict:
    """Write the outputs ``dvc.yaml`` declares (data/manifest, data/filtered), commit them to dvc.lock, push.

    The files are exactly what ``orion manifest`` / ``orion filter`` (the dvc.yaml commands) write, so ``dvc repro``
    and this graph are one pipeline seen two ways.
    """
    from orion_core.data.dvc_hash import dvc_md5

    repo = Path(dvc.repo)
    manifest_dir, filtered_dir = repo / "data" / "manifest", repo / "data" / "filtered"
    write_jsonl(rows, manifest_dir / "manifest.jsonl")
    summary = {"data_version": data_versions[0] if len(data_versions) == 1 else data_versions,
               "shards": len({r["shard"] for r in rows}), **summarize(rows)}
    (manifest_dir / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    if filtered_dir.exists():
        shutil.rmtree(filtered_dir)
    shutil.copytree(out, filtered_dir)
    facts = {"dvc_md5": dvc_md5(filtered_dir), "dvc": "not available"}
    if dvc.locked_md5("filter", "data/filtered") == facts["dvc_md5"] and \
            dvc.locked_md5("manifest", "data/manifest") == dvc_md5(manifest_dir):
        facts["dvc"] = "unchanged in dvc.lock"
    elif dvc.available() and (repo / "dvc.yaml").exists() and (repo / "data" / "raw.dvc").exists():
        dvc.commit("manifest", "filter")
        dvc.push_targets("manifest", "filter")
        facts["dvc"] = "committed to dvc.lock" + (" and pushed" if dvc.push else "")
    return facts
