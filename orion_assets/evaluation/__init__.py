"""Evaluation: ``benchmark_scores`` (one partition per benchmark) downstream of ``stage3_checkpoint``, with the
scores logged in MLflow against the model version they evaluate."""
