"""The tiny model fixtures of tests/core/model, shared with the inference tests (OrionPredictor, orion ask)."""

from tests.core.model.conftest import model, model_config, simple_preprocess, tokenizer  # noqa: F401
