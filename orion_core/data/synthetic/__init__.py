"""The embedded synthetic world: a deterministic generator of real mp4 files with ground truth.

``generate_world(config, out_dir)`` writes (paths relative to ``out_dir``)::

    videos/{pretrain,instruct,benchmark}/{pt,in,bm}_NNNN.mp4   H.264, RGB objects on a textured backdrop
    videos/pretrain/pt_bad_NN.mp4                              deliberately broken (empty, truncated, ...)
    annotations/<video_id>.json                                ground truth (see .annotation)
    pretrain.json  instruct.json                               LLaVA/VideoLLaMA2 conversation records
    benchmark_mc.json  benchmark_ref.json                      MVBench-like MC items, referring items
    world.json                                                 config, digest, counts, sha256 of every file

Modules: vocabulary (nouns, colours, shapes), motion + scene (plans), render (pixels, visibility),
writer (mp4), annotation (ground truth I/O), language / questions / conversations (text), generate.
"""

from .annotation import Annotation, load_annotation
from .generate import GENERATOR_VERSION, WorldGenerationError, WorldSummary, generate_world, world_digest
from .scene import uniform_indices
from .vocabulary import COLOURS, KINDS, SIZES, shape_mask

__all__ = [
    "Annotation", "COLOURS", "GENERATOR_VERSION", "KINDS", "SIZES", "WorldGenerationError", "WorldSummary",
    "generate_world", "load_annotation", "shape_mask", "uniform_indices", "world_digest",
]
