"""Resources: small interfaces with swappable implementations, chosen and configured in one place
(``definitions.py``, through each resource's ``from_env``); nothing here reads the environment at import.

* ``store``     :class:`OutputStore`, where content-addressed outputs live (:class:`LocalStoreResource`, or
                :class:`S3StoreResource` when ``$ORION_STORE`` is an ``s3://`` URI)
* ``ray``       :class:`RayClusterResource`, where per-video work runs (in-process, or Ray tasks on a cluster)
* ``config``    :class:`OrionConfigResource`, the preset + overrides of a run
* ``dvc``       :class:`DvcResource`, DVC through its own venv's CLI (commit, push, dvc.lock)
* ``mlflow``    ``MlflowResource``, runs, datasets, the model registry, evaluation runs
* ``deepspeed`` ``DeepSpeedLauncher``, the training job's ranks under Dagster Pipes
"""

from .config import OrionConfigResource
from .dvc import DvcResource
from .output_store import LocalStoreResource, OutputStore, S3StoreResource
from .ray_cluster import RayClusterResource

__all__ = ["DvcResource", "LocalStoreResource", "OrionConfigResource", "OutputStore", "RayClusterResource",
           "S3StoreResource"]
