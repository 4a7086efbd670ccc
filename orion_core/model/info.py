"""``orion model-info --preset NAME``: parameters per module, stage schedule and token counts, as JSON.

The model is built on the meta device from the preset's sizes (no weights are read or allocated), so the
7B presets report on a laptop in seconds.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from orion_core.config import OrionConfig, available_presets, load_preset

from .orion import STAGE_MODULES, VideoOrion


def _count(module: Any) -> int:
    return sum(p.numel() for p in module.parameters())


def model_info(config: OrionConfig, model: VideoOrion | None = None) -> dict[str, Any]:
    """Facts about the model of ``config`` (built on the meta device unless ``model`` is given)."""
    if model is None:
        from .builders import build_videoorion

        model = build_videoorion(config, device="meta")
    modules = ("vision_encoder", "video_projector", "object_projector", "llm")
    params = {name: _count(getattr(model, name)) for name in modules}
    h, w = model.vision_encoder.grid
    t_v = config.video.t_v
    return {
        "preset": config.name,
        "parameters": {**params, "total": sum(params.values())},
        "stages": {str(s): {"trains": list(names), "trainable_parameters": sum(params[n] for n in names)}
                   for s, names in STAGE_MODULES.items()},
        "frozen_always": ["vision_encoder"],
        "vision_encoder": {"kind": config.model.vision_encoder, "image_size": model.vision_encoder.image_size,
                           "patch_grid": [h, w], "width": model.vision_encoder.hidden_size,
                           "feature_layer": config.model.feature_layer},
        "video_projector": {"kind": config.model.video_projector, "frames": t_v,
                            "output_grid": list(model.video_projector.output_grid(t_v, h, w))},
        "object_projector": {"kind": config.model.object_projector, "frames": config.video.t_o,
                             "frames_long_video": config.video.t_o_long},
        "llm": {"kind": config.model.llm, "width": model.llm.config.get_text_config().hidden_size,
                "layers": model.llm.config.get_text_config().num_hidden_layers},
        "context_tokens_per_video": model.num_context_tokens,
        "max_object_tokens": config.model.max_object_tokens,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="orion model-info", description=__doc__)
    parser.add_argument("--preset", default="tiny-cpu", help=f"one of {available_presets()} or a YAML path")
    parser.add_argument("overrides", nargs="*", help="dotted overrides, e.g. model.object_projector=lstm")
    args = parser.parse_args(argv)
    print(json.dumps(model_info(load_preset(args.preset, args.overrides)), indent=2))
    return 0
