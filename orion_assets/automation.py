"""When an asset re-materializes by itself: only when what it consumes changed, not whenever an input re-ran.

Dagster's ``AutomationCondition.eager()`` requests an asset whenever a dependency *materialized*, whatever came
out. Then removing an already-rejected file from the raw data (a new DVC version whose training set is identical)
re-runs the manifests, the filter, the tags, the masks and all three stages and registers new model versions:
days of GPU time at the paper's scale, for nothing. :func:`on_new_data` is ``eager()`` with one change: a
dependency counts only when its **data version** changed. Orion's data versions are content digests of exactly
what the next asset consumes (a shard manifest's files, ``train.json``'s digest, a mask shard's outputs, a
stage's consumed samples and inputs: :func:`orion_core.train.consumed.consumed_inputs`), so a real change still
flows all the way down while an identical result stops the cascade.
"""

from __future__ import annotations

import dagster as dg

AC = dg.AutomationCondition


def deps_data_changed() -> dg.AutomationCondition:
    """Some dependency got a new data version since the last tick (``any_deps_updated`` with
    ``data_version_changed`` in place of ``newly_updated``). Unlike ``eager()``, a dependency that is merely
    requested in the same tick does not count: its new data version is not known before it ran, so the asset waits
    for it (one tick later) rather than re-running on the chance that something changed."""
    return AC.any_deps_match(
        (AC.data_version_changed() & ~AC.executed_with_root_target()).with_label("data_version_changed")
    ).with_label("any_deps_data_changed")


def on_new_data() -> dg.AutomationCondition:
    """``eager()``, triggered by a dependency's new data version instead of any new materialization."""
    return (
        AC.in_latest_time_window()
        & (AC.newly_missing() | deps_data_changed()).since_last_handled()
        & ~AC.any_deps_missing()
        & ~AC.any_deps_in_progress()
        & ~AC.in_progress()
    ).with_label("eager_on_new_data")


def catching_up(*assets: str) -> dg.AutomationCondition:
    """A dependency among ``assets`` has had its own inputs change since it was last materialized: it is about to be
    re-made, so an asset reading it waits (``& ~catching_up(...)``) instead of running on its old output. The
    partition mapping applies, so a shard's frame_features waits for that shard's object_masks only."""
    return AC.any_deps_match(deps_data_changed().since(AC.newly_updated())).allow(
        dg.AssetSelection.assets(*assets)).with_label(f"{' / '.join(assets)} catching up with their inputs")
