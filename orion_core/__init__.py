"""Orion's science: video I/O, the synthetic world, detect-segment-track, the VideoOrion model, training and
evaluation. Plain Python on torch/transformers; never imports Dagster (orion_assets orchestrates it)."""

__version__ = "0.1.0"
