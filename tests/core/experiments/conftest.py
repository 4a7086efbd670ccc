"""The evaluation fixtures of tests/core/eval (tiny predictor, benchmark fixtures), shared with the experiments."""

from tests.core.eval.conftest import _one_torch_thread, bench_root, eval_config, tiny_predictor  # noqa: F401
