"""raw_videos -> video_manifest (per shard) -> filtered_dataset. Each asset calls one orion_core function."""


import dagster as dg

from orion_core.data.manifest import bad_file_lines, shard_manifest, shard_manifest_digest, summarize

from ..automation import on_new_data
from ..metadata import plain, png_markdown, table_md
from ..partitions import shard_partitions
from .observe import observation_metadata, register_shards, take_snapshot

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
    added = register_shards(context.instance, snap)  # so per-shard assets can be launched for new shards
    return dg.ObserveResult(data_version=dg.DataVersion(snap.version),
                            metadata={**observation_metadata(snap), "shards_added": len(added)})


@dg.asset(
    partitions_def=shard_partitions, deps=[raw_videos], group_name="data", required_resource_keys=RESOURCES,
    automation_condition=on_new_data(), retry_policy=IO_RETRY,
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
    digest = shard_manifest_digest(snap, shard, config)
    path = store.path("video_manifest", digest, shard) / "manifest.jsonl"
    rows, cached = shard_manifest(snap, shard, config, path)
    summary = summarize(rows)
    bad = [r for r in rows if not r["ok"]]
    limit = config.data.max_bad_fraction
    blocked = summary["bad_fraction"] > limit
    yield dg.Output(
        # ``blocked``: this shard failed the bad-fraction check; filtered_dataset leaves it out, the others flow on.
        {"path": str(path), "data_version": snap.version, "shard": shard, "blocked": blocked},
        data_version=dg.DataVersion(digest),
        metadata={**orion.metadata(), **{k: plain(v) for k, v in summary.items()}, "cached": cached,
                  "output_path": str(path), "raw_data_version": snap.version,
                  "bad_videos": table_md(bad, ["relpath", "error"])},
    )
    yield dg.AssetCheckResult(
        check_name=BAD_FRACTION_CHECK, passed=not blocked,
        metadata={"bad_fraction": summary["bad_fraction"], "limit": limit, "bad": summary["bad"],
                  "bad_files": dg.MetadataValue.text("\n".join(bad_file_lines(rows)) or "none")},
        description=f"{summary['bad']} of {summary['videos']} videos undecodable (limit {limit:.0%})",
    )


@dg.asset(
    ins={"video_manifest": dg.AssetIn(partition_mapping=dg.AllPartitionMapping())}, group_name="data",
    required_resource_keys=RESOURCES | {"dvc"}, automation_condition=on_new_data(),
    description="Quality + caption-similarity + concept-balance filtered training manifest (conversation format), "
                "DVC-versioned.",
)
def filtered_dataset(context: dg.AssetExecutionContext, video_manifest: dict) -> dg.Output:
    from orion_core.data.dvc_outputs import FILTERED_OUT, write_dvc_outputs
    from orion_core.data.filters import filter_into, filtered_digest
    from orion_core.data.manifest import merge_manifests

    orion, store, dvc = context.resources.orion, context.resources.store, context.resources.dvc
    config = orion.load()
    if isinstance(video_manifest.get("path"), str):  # the IO manager hands over a lone partition's value bare
        video_manifest = {video_manifest["shard"]: video_manifest}
    # A shard over the bad-fraction limit stays out (its check failed); every other shard flows on.
    blocked = sorted(shard for shard, value in video_manifest.items() if value.get("blocked"))
    video_manifest = {shard: value for shard, value in video_manifest.items() if shard not in blocked}
    if not video_manifest:
        raise dg.Failure(f"every shard is blocked by {BAD_FRACTION_CHECK}: {blocked}")
    rows = merge_manifests(video_manifest[shard]["path"] for shard in sorted(video_manifest))
    data_versions = sorted({p["data_version"] for p in video_manifest.values()})
    if len(data_versions) > 1:  # never mix shards probed from two versions of the raw data
        raise dg.Failure(f"video_manifest shards come from several raw data versions {data_versions}; "
                         "re-materialize video_manifest for every shard of the current version")
    out = store.path("filtered_dataset", filtered_digest(rows, config))
    report, cached = filter_into(rows, config, out)
    video_md5 = _video_md5(rows, out)
    # The outputs dvc.yaml declares (data/manifest, data/filtered), recorded in dvc.lock and pushed.
    md5s = write_dvc_outputs(rows, out, dvc.repo, data_versions)
    published = {"dvc_md5": md5s[("filter", FILTERED_OUT)], "dvc": dvc.publish(md5s)}
    counts = report.get("counts", {})
    metadata = {**orion.metadata(), "cached": cached, "output_path": str(out), "dataset_version": report["version"],
                "raw_data_version": data_versions[0], **published, "blocked_shards": dg.MetadataValue.json(blocked),
                **{k: plain(v) for k, v in counts.items()}, "thresholds": plain(report.get("thresholds", {}))}
    if (out / "scores.png").exists():
        metadata["score_histogram"] = png_markdown(out / "scores.png", "filter scores")
    # The data version is the digest of train.json alone, so a re-run that keeps the same samples is not "new data".
    return dg.Output({"path": str(out), "train_json": str(out / "train.json"), "dataset_version": report["version"],
                      "dvc_md5": published["dvc_md5"], "video_md5": str(video_md5), "blocked_shards": blocked},
                     data_version=dg.DataVersion(report["version"]), metadata=metadata)


def _video_md5(rows: list[dict], out) -> "Path":
    """``{video_id: md5}`` of the manifest the dataset was filtered from, beside train.json (outside the DVC copy):
    what the training stages name their videos by (:func:`orion_assets.training.inputs.per_video_inputs`)."""
    from pathlib import Path

    from orion_core.contracts.atomic import write_json_atomic

    path = Path(str(out) + ".video_md5.json")
    if not path.is_file():
        write_json_atomic(path, {r["video_id"]: r["md5"] for r in rows})
    return path
