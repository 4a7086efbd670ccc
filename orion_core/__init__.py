"""Orion's science: video I/O, the synthetic world, detect-segment-track, the VideoOrion model, training and
evaluation. Plain Python on torch/transformers; never imports Dagster (orion_assets orchestrates it).

Packages from the ground up (each imports only those before it; DESIGN.md section 2):
config, contracts, text, video -> data -> pipeline, model -> inference, train -> eval -> experiments; audit
reads MLflow. ``cli`` maps ``orion <command>`` to each package's command module.
"""

__version__ = "0.1.0"
