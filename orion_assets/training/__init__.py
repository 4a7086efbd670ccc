"""Training: the three stage checkpoints as Pipes-launched DeepSpeed jobs, tracked in MLflow."""
