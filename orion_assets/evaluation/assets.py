"""benchmark_scores: the stage-3 checkpoint scored on each benchmark, one partition per benchmark.

The partitions are the benchmarks of the preset the code location loads (``definitions.py`` passes them from the
config resource it builds: ``$ORION_PRESET``, ``$ORION_OVERRIDES``; tiny-cpu: the embedded world's
``synthetic`` split; videoorion-7b: the published benchmarks read from ``eval.data_root``). Eager: a new stage-3
checkpoint re-scores every partition. In the ``gpu`` pool, since evaluation runs the model. Scores land in MLflow
as an ``eval-<benchmark>`` run tagged with the model version.
"""

from typing import Sequence

import dagster as dg

from .score import score_benchmark


def build_evaluation_assets(benchmarks: Sequence[str]) -> list[dg.AssetsDefinition]:
    """``benchmark_scores`` partitioned by ``benchmarks`` (the preset's ``eval.benchmarks``)."""

    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(list(benchmarks)), group_name="evaluation", pool="gpu",
              required_resource_keys={"orion", "store", "mlflow"}, kinds={"pytorch", "mlflow"},
              automation_condition=dg.AutomationCondition.eager(),
              description="Scores of the stage-3 checkpoint on one benchmark: overall and per-category tables and a "
                          "bar chart here; an `eval-<benchmark>` run in MLflow tagged with the model version it "
                          "scored.")
    def benchmark_scores(context: dg.AssetExecutionContext, stage3_checkpoint: dict) -> dg.Output:
        return score_benchmark(context, benchmark=context.partition_key, checkpoint=stage3_checkpoint)

    return [benchmark_scores]
