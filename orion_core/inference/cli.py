"""``orion ask VIDEO "QUESTION" --checkpoint DIR`` and ``orion ask VIDEO --box x0,y0,x1,y1 --checkpoint DIR``.

Prints one JSON object: the answer and the attention each object token received (the paper's Fig. 3/7
diagnostic); ``--figure PATH`` also saves the picture of attention beside the object masks (PNG, JPEG, PDF or SVG by
the suffix; missing folders are created), the same picture ``benchmark_scores`` shows for its examples.

Objects come from ``--masks`` (a pipeline mask-list JSON for this video); without it the preset's
detect-segment-track pipeline runs on the video first, and ``--no-objects`` asks with context tokens only. ``--box`` asks the paper's referring question about the object under a first-frame
box (the pipeline's segmenter turns the box into a mask and its tracker follows it).
"""

from __future__ import annotations

import argparse
import json
import sys


def _box(text: str) -> tuple[float, float, float, float]:
    parts = [p for p in text.replace(" ", "").split(",") if p]
    if len(parts) != 4:
        raise argparse.ArgumentTypeError(f"--box needs x0,y0,x1,y1, got {text!r}")
    x0, y0, x1, y1 = (float(p) for p in parts)
    if x1 <= x0 or y1 <= y0:
        raise argparse.ArgumentTypeError(f"--box needs x0 < x1 and y0 < y1, got {text!r}")
    return x0, y0, x1, y1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="orion ask", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", help="video or image file")
    parser.add_argument("question", nargs="?",
                        help="the question (with --box: omit for the paper's referring question, or include <o>)")
    parser.add_argument("--checkpoint", required=True, help="checkpoint directory (save_checkpoint)")
    parser.add_argument("--box", type=_box, help="first-frame box x0,y0,x1,y1 in pixels: ask about that object")
    parser.add_argument("--masks", help="mask-list JSON of this video (orion_core.contracts.masklist)")
    parser.add_argument("--no-objects", action="store_true", help="ask without object tokens (skip the pipeline)")
    parser.add_argument("--figure", help="save the attention picture here (.png, .jpg, .pdf or .svg)")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--sample", action="store_true", help="sample instead of greedy decoding")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto",
                        help="auto (the GPU when there is one), cpu, cuda, cuda:N; the pipeline's experts follow it")
    args = parser.parse_args(argv)
    if args.question is None and args.box is None:
        parser.error("give a QUESTION, or --box for the referring question")
    figure = None
    if args.figure:  # before any model work: a path that cannot be written fails now, not after the answer
        from pathlib import Path

        figure = Path(args.figure)
        if figure.suffix.lower() not in (".png", ".jpg", ".jpeg", ".pdf", ".svg"):
            parser.error(f"--figure needs a .png, .jpg, .pdf or .svg path, got {args.figure!r}")
        figure.parent.mkdir(parents=True, exist_ok=True)

    from .predictor import OrionPredictor

    from orion_core.config import ComputeConfig
    from orion_core.devices import resolve_device

    predictor = OrionPredictor.from_checkpoint(args.checkpoint, device=resolve_device(ComputeConfig(device=args.device)))
    masks = None if args.no_objects else "pipeline"
    if args.masks:
        from orion_core.contracts.masklist import MaskList

        masks = MaskList.load(args.masks)
    predictor.set_video(args.video, masks=masks)
    kwargs = {"max_new_tokens": args.max_new_tokens, "do_sample": args.sample, "seed": args.seed}
    if args.box is not None:
        answer = predictor.refer(args.box, **({"question": args.question} if args.question else {}), **kwargs)
    else:
        answer = predictor.ask(args.question, **kwargs)
    result = answer.to_dict()
    if figure is not None:  # the picture benchmark_scores shows: each object's mask beside its attention bar
        import matplotlib.pyplot as plt

        plt.close(predictor.figure(answer, figure))
        result["figure"] = str(figure)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0
