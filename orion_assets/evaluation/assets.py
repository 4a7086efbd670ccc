"""benchmark_scores: the stage-3 checkpoint scored on each benchmark, one partition per benchmark.

The partitions are the benchmarks of the preset the code location loads (``$ORION_PRESET``, ``$ORION_OVERRIDES``;
tiny-cpu: the embedded world's ``synthetic`` split; videoorion-7b: the published benchmarks read from
``eval.data_root``). Eager: a new stage-3 checkpoint re-scores every partition. In the ``gpu`` pool, since
evaluation runs the model. Scores land in MLflow as an ``eval-<benchmark>`` run tagged with the model version.
"""

import dagster as dg

from ..resources import OrionConfigResource
from .score import score_benchmark

benchmark_partitions = dg.StaticPartitionsDefinition(list(OrionConfigResource().load().eval.benchmarks))


@dg.asset(partitions_def=benchmark_partitions, group_name="evaluation", pool="gpu",
          required_resource_keys={"orion", "store", "mlflow"}, kinds={"pytorch", "mlflow"},
          automation_condition=dg.AutomationCondition.eager(),
          description="Scores of the stage-3 checkpoint on one benchmark: overall and per-category tables and a bar "
                      "chart here; an `eval-<benchmark>` run in MLflow tagged with the model version it scored.")
def benchmark_scores(context: dg.AssetExecutionContext, stage3_checkpoint: dict) -> dg.Output:
    return score_benchmark(context, benchmark=context.partition_key, checkpoint=stage3_checkpoint)


evaluation_assets = [benchmark_scores]
