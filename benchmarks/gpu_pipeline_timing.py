"""Detect-segment-track cost per video on one CUDA device, full-size experts with random weights (paper Table 12).

The paper's question: what does the detect-segment-track pipeline add per sample next to the model's own
per-sample time (8.27 s -> 11.46 s, +38.5 %)? This builds the repo's real expert classes around full-size models
with RANDOM weights (no weight files exist; speed does not depend on weight values) and times one synthetic video:

  tagger     ClipTagger over configs/tag_vocabulary.txt, CLIP ViT-L/14-336 (the paper uses RAM++)
  detector   GroundingDinoDetector, GroundingDINO Swin-B (the preset's grounding-dino-base; --detector-size tiny:
             transformers' GroundingDinoConfig default, Swin-T)
  segmenter  SamSegmenter, SAM ViT-H (orion_core's build_sam with SAM_ARCHS["vit_h"], the registry's sizes)
  tracker    Sam2Tracker, SAM2 Hiera-L (the preset's sam2-hiera-large; transformers' Sam2VideoConfig default is
             Hiera-T, reported as ``tracker.transformers_default``)

The models are built in memory (directly on the device) and handed to the backend constructors; only
``from_config``/``from_pretrained`` (reading a directory) is skipped. Frames are generated in memory: decoding is
not timed here (benchmarks/decode_throughput.py) and the device has no decord/PyAV. The stages are the same
functions ``DetectSegmentTrack.tag_video``/``mask_video`` call: ``tag_and_select``, ``detect_objects``,
``track_objects`` (runner.py itself imports the decoders, so its 15 lines of glue are mirrored below).

What is FORCED, because random weights give meaningless outputs (every model forward still runs at full size):
  * key frames: ``--key-frames`` evenly spaced tagged frames (uniform rule), each prompted with ``--prompts``
    vocabulary nouns; the paper rule's own pick on the random tags is reported (``paper_rule``), not used;
  * detections: after GroundingDINO's forward + decoding, each key frame's detections are replaced by the true
    boxes of the ``--objects`` synthetic objects (labels = the frame's prompts in turn, scores 0.9 down to 0.5);
  * masks: after SAM's encoder + decoder, each box's mask is replaced by the filled box;
  * tracks: after SAM2's propagation, every tracked mask is replaced by the object's start mask (objects move
    only a few pixels, so each key frame re-detects the same objects): all ``--objects`` objects are tracked
    through every clip of the t_o grid, as in a real video whose objects stay in view.

    python benchmarks/gpu_pipeline_timing.py --out /tmp/pipeline.json [--model-json /tmp/model.json]
    python benchmarks/gpu_pipeline_timing.py --tiny        # same code, toy sizes, CPU (a smoke test)

Prints one JSON object (also written to ``--out``). Stages that fail are reported under ``errors`` and the
others still run (exit status 1 then).
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a plain checkout

from orion_core.config import load_preset  # noqa: E402
from orion_core.pipeline.experts.base import Detection  # noqa: E402
from orion_core.pipeline.experts.clip_tagger import ClipTagger, load_vocabulary  # noqa: E402
from orion_core.pipeline.keyframes import select_keyframes  # noqa: E402
from orion_core.pipeline.objects import Candidate, detect_objects  # noqa: E402
from orion_core.pipeline.tags import tag_and_select  # noqa: E402
from orion_core.pipeline.tracking import split_clips, track_objects  # noqa: E402

T0 = time.perf_counter()


class Interrupted(BaseException):
    """SIGTERM (the runner's ``timeout``): stop timing, still report the videos measured so far."""


def _on_term(signum, frame):
    raise Interrupted(f"signal {signum}")


def log(msg: str) -> None:
    """Progress on stderr (stdout carries the JSON)."""
    print(f"[pipeline {time.perf_counter() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


FULL = dict(width=640, height=360, fps=30.0, seconds=10.0, n_frames=16, key_frames=3, prompts=8, objects=16)
# SAM2 runs every object separately through every frame; on a 2-core CPU toy sizes still cost seconds per frame.
TINY = dict(width=192, height=128, fps=8.0, seconds=4.0, n_frames=8, t_o=12, key_frames=2, prompts=3, objects=3)
STAGES = ("tag", "tag_model", "detect", "segment", "track", "track_model", "total")


# ---------------------------------------------------------------- synthetic video
def uniform_indices(num_frames: int, count: int) -> list[int]:
    """orion_core.video.sampling.uniform_indices (VideoLLaMA2's frame_sample); that module imports the decoders."""
    seg = (num_frames - 1) / count
    return np.round(seg * (np.arange(count) + 0.5)).astype(int).clip(0, num_frames - 1).tolist()


class SyntheticVideo:
    """``objects`` coloured boxes, one per cell of a grid, each drifting a few pixels (never into another)."""

    def __init__(self, *, width: int, height: int, num_frames: int, objects: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.width, self.height, self.num_frames = width, height, num_frames
        cols = int(np.ceil(np.sqrt(objects)))
        rows = int(np.ceil(objects / cols))
        self.cell = (width / cols, height / rows)
        self.centres = [((k % cols + 0.5) * self.cell[0], (k // cols + 0.5) * self.cell[1]) for k in range(objects)]
        self.phase = rng.uniform(0, 2 * np.pi, objects)
        self.colour = rng.integers(40, 256, (objects, 3), dtype=np.uint8)
        y, x = np.mgrid[0:height, 0:width]
        self.background = np.stack([x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1),
                                    np.full_like(x, 96)], -1).astype(np.uint8)  # (H, W, 3)

    def boxes(self, index: int) -> np.ndarray:
        """(N, 4) float32 xyxy of every object on frame ``index``: half a cell wide, drifting 3 % of a cell."""
        t = 2 * np.pi * index / max(self.num_frames, 1)
        cw, ch = self.cell
        out = []
        for (cx, cy), phase in zip(self.centres, self.phase):
            cx, cy = cx + 0.03 * cw * np.sin(t + phase), cy + 0.03 * ch * np.cos(t + phase)
            out.append([cx - cw / 4, cy - ch / 4, cx + cw / 4, cy + ch / 4])
        return np.asarray(out, np.float32)

    def frame(self, index: int) -> np.ndarray:
        img = self.background.copy()  # (H, W, 3) uint8
        for box, colour in zip(self.boxes(index).round().astype(int), self.colour):
            img[box[1]:box[3], box[0]:box[2]] = colour
        return img


def box_mask(box: np.ndarray, height: int, width: int) -> np.ndarray:
    mask = np.zeros((height, width), bool)
    x0, y0, x1, y1 = np.round(box).astype(int)
    mask[max(y0, 0):y1, max(x0, 0):x1] = True
    return mask


# ---------------------------------------------------------------- forced wrappers (the real expert runs first)
class Timed:
    """Adds the seconds of each call of ``inner.<method>`` to ``self.seconds``."""

    def __init__(self, inner, method: str) -> None:
        self.inner, self.method, self.seconds = inner, method, 0.0

    def _call(self, *args):
        start = time.perf_counter()
        try:
            return getattr(self.inner, self.method)(*args)
        finally:
            self.seconds += time.perf_counter() - start


class TimedTagger(Timed):
    def tag(self, frames):
        return self._call(frames)


class ForcedDetector(Timed):
    """Runs GroundingDINO on the key frames, then answers with the synthetic objects' true boxes."""

    def __init__(self, inner, video: SyntheticVideo) -> None:
        super().__init__(inner, "detect")
        self.video, self.frame_indices, self.real_kept = video, [], []

    def detect(self, frames, prompts):
        real = self._call(frames, prompts)
        self.real_kept = [len(d) for d in real]  # what the random model kept above its thresholds
        out = []
        for index, nouns in zip(self.frame_indices, prompts):
            boxes = self.video.boxes(index)
            scores = np.linspace(0.9, 0.5, len(boxes))
            out.append([Detection(box=b, score=float(s), label=nouns[k % len(nouns)])
                        for k, (b, s) in enumerate(zip(boxes, scores))])
        return out


class ForcedSegmenter(Timed):
    """Runs SAM on every box, then answers with the filled boxes."""

    def __init__(self, inner) -> None:
        super().__init__(inner, "segment")

    def segment(self, frames, boxes):
        real = self._call(frames, boxes)
        h, w = frames.shape[1:3]
        return [(np.stack([box_mask(b, h, w) for b in bs]), scores) for bs, (_m, scores) in zip(boxes, real)]


class ForcedTracker(Timed):
    """Runs SAM2 through the clip, then answers with each object's start mask on every frame."""

    def __init__(self, inner) -> None:
        super().__init__(inner, "track")
        self.frames = 0

    def track(self, frames, masks):
        self._call(frames, masks)
        self.frames += len(frames)
        return np.repeat(masks[:, None], len(frames), axis=1)  # (N, T, H, W)


# ---------------------------------------------------------------- experts
def word_bert_tokenizer(words: list[str]):
    """WordPiece tokenizer with bert-base-uncased's special ids (the model hard-codes 101/102/1012/1029) and each
    vocabulary word as ONE token, as bert-base-uncased has for common nouns: captions get their real length."""
    from transformers import BertTokenizer

    special = {0: "[PAD]", 100: "[UNK]", 101: "[CLS]", 102: "[SEP]", 103: "[MASK]", 1012: ".", 1029: "?"}
    tokens = [special.get(i, f"[unused{i}]") for i in range(1030)]
    letters = "abcdefghijklmnopqrstuvwxyz"
    tokens += list(letters) + [f"##{c}" for c in letters]
    tokens += sorted({p for w in words for p in w.lower().split()} - set(tokens))
    return BertTokenizer(vocab={t: i for i, t in enumerate(tokens)}, do_lower_case=True)


def char_clip_tokenizer():
    """CLIP BPE tokenizer over single letters (no merges): the vocabulary prompts tokenise without vocab files."""
    from transformers import CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in "abcdefghijklmnopqrstuvwxyz":
        vocab[c] = len(vocab)
        vocab[c + "</w>"] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=[])


def build_tagger(vocabulary, *, tiny: bool, device: str):
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    text = dict(vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                max_position_embeddings=77, bos_token_id=0, eos_token_id=1, pad_token_id=1)
    vision = dict(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24, num_attention_heads=16,
                  image_size=336, patch_size=14)
    size, proj = 336, 768
    if tiny:
        text.update(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=4)
        vision = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=4, image_size=32,
                      patch_size=8)
        size, proj = 32, 16
    with torch.device(device):
        model = CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=proj))
    processor = CLIPImageProcessor(size={"shortest_edge": size}, crop_size={"height": size, "width": size})
    return ClipTagger(model=model, tokenizer=char_clip_tokenizer(), image_processor=processor, vocabulary=vocabulary,
                      kind="clip", device=device), f"CLIP ViT-L/14-{size}" if not tiny else "CLIP tiny"


def build_detector(vocabulary, *, tiny: bool, size: str, device: str, pipeline):
    from transformers import (BertConfig, GroundingDinoConfig, GroundingDinoForObjectDetection,
                              GroundingDinoImageProcessor, GroundingDinoProcessor, SwinConfig)

    from orion_core.pipeline.experts.grounding_dino import GroundingDinoDetector

    if tiny:
        swin = SwinConfig(image_size=128, patch_size=4, embed_dim=16, depths=[1, 1, 1, 1], num_heads=[1, 2, 2, 4],
                          window_size=4, out_indices=[2, 3, 4])
        config = GroundingDinoConfig(
            backbone_config=swin, text_config=BertConfig(vocab_size=2048, hidden_size=32, num_hidden_layers=1,
                                                         num_attention_heads=2, intermediate_size=64,
                                                         max_position_embeddings=64),
            d_model=32, num_queries=10, encoder_layers=1, decoder_layers=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
            encoder_attention_heads=2, decoder_attention_heads=2, max_text_len=32)
        image_processor, name = GroundingDinoImageProcessor(size={"shortest_edge": 128, "longest_edge": 192}), "tiny"
    elif size == "base":  # IDEA-Research/grounding-dino-base: Swin-B 384, window 12
        swin = SwinConfig(image_size=384, patch_size=4, embed_dim=128, depths=[2, 2, 18, 2], num_heads=[4, 8, 16, 32],
                          window_size=12, out_indices=[2, 3, 4])
        config, name = GroundingDinoConfig(backbone_config=swin), "GroundingDINO Swin-B (grounding-dino-base)"
        image_processor = GroundingDinoImageProcessor()  # shortest edge 800, longest 1333, as the checkpoints ship
    else:
        config, name = GroundingDinoConfig(), "GroundingDINO Swin-T (transformers default config)"
        image_processor = GroundingDinoImageProcessor()
    with torch.device(device):
        model = GroundingDinoForObjectDetection(config)
    processor = GroundingDinoProcessor(image_processor=image_processor, tokenizer=word_bert_tokenizer(vocabulary))
    return GroundingDinoDetector(model=model, processor=processor, box_threshold=pipeline.box_threshold,
                                 text_threshold=pipeline.text_threshold, device=device), name


def build_segmenter(*, tiny: bool, device: str):
    from orion_core.pipeline.experts.sam import SAM_ARCHS, SamArch, SamSegmenter, build_sam

    arch = SAM_ARCHS["vit_h"] if not tiny else SamArch(
        encoder_embed_dim=32, encoder_depth=2, encoder_num_heads=2, encoder_global_attn_indexes=(1,), image_size=64,
        patch_size=16, window_size=2, prompt_embed_dim=32, decoder_depth=1, decoder_mlp_dim=64, iou_head_hidden_dim=32)
    with torch.device(device):
        sam = build_sam(arch)
    return SamSegmenter(sam=sam.to(device)), "SAM ViT-H" if not tiny else "SAM tiny"


def build_tracker(*, tiny: bool, size: str, device: str):
    from transformers import (Sam2HieraDetConfig, Sam2ImageProcessor, Sam2VideoConfig, Sam2VideoMaskDecoderConfig,
                              Sam2VideoModel, Sam2VideoProcessor, Sam2VideoPromptEncoderConfig,
                              Sam2VideoVideoProcessor, Sam2VisionConfig)

    from orion_core.pipeline.experts.sam2_tracker import Sam2Tracker

    px, kwargs = 1024, {}
    if tiny:
        px = 128
        hiera = Sam2HieraDetConfig(hidden_size=12, image_size=[px, px], blocks_per_stage=[1, 1, 2, 1],
                                   embed_dim_per_stage=[12, 24, 48, 96], num_attention_heads_per_stage=[1, 1, 2, 2],
                                   global_attention_blocks=[3], window_size_per_stage=[4, 4, 4, 4],
                                   window_positional_embedding_background_size=[4, 4])
        kwargs = dict(
            vision_config=Sam2VisionConfig(backbone_config=hiera, backbone_channel_list=[96, 48, 24, 12],
                                           backbone_feature_sizes=[[32, 32], [16, 16], [8, 8]], fpn_hidden_size=128),
            # config objects, not dicts: transformers 5.17 turns a mask_decoder_config dict into a prompt-encoder config
            image_size=px, prompt_encoder_config=Sam2VideoPromptEncoderConfig(hidden_size=128, image_size=px,
                                                                              patch_size=16),
            mask_decoder_config=Sam2VideoMaskDecoderConfig(hidden_size=128, mlp_dim=64, num_hidden_layers=1,
                                                           num_attention_heads=2, iou_head_hidden_dim=32),
            num_maskmem=2, memory_attention_hidden_size=128, memory_attention_num_layers=1,
            memory_attention_feed_forward_hidden_size=64, memory_attention_rope_feat_sizes=[8, 8],
            memory_encoder_hidden_size=128, memory_encoder_output_channels=64, mask_downsampler_embed_dim=128,
            memory_fuser_embed_dim=128, memory_fuser_intermediate_dim=64, memory_fuser_num_layers=1)
        name = "SAM2 tiny"
    elif size == "large":  # facebook/sam2.1-hiera-large (sam2.1_hiera_l.yaml)
        hiera = Sam2HieraDetConfig(hidden_size=144, num_attention_heads=2, blocks_per_stage=[2, 6, 36, 4],
                                   embed_dim_per_stage=[144, 288, 576, 1152],
                                   num_attention_heads_per_stage=[2, 4, 8, 16],
                                   global_attention_blocks=[23, 33, 43], window_size_per_stage=[8, 4, 16, 8],
                                   window_positional_embedding_background_size=[7, 7])
        kwargs = dict(vision_config=Sam2VisionConfig(backbone_config=hiera,
                                                     backbone_channel_list=[1152, 576, 288, 144]))
        name = "SAM2 Hiera-L (sam2-hiera-large)"
    else:
        name = "SAM2 Hiera-T (transformers Sam2VideoConfig default)"
    with torch.device(device):
        model = Sam2VideoModel(Sam2VideoConfig(**kwargs))
    processor = Sam2VideoProcessor(
        image_processor=Sam2ImageProcessor(size={"height": px, "width": px},
                                           mask_size={"height": px // 4, "width": px // 4}),
        video_processor=Sam2VideoVideoProcessor(size={"height": px, "width": px}), target_size=px)
    return Sam2Tracker(model=model, processor=processor, device=device), name


def sam2_default_config() -> str:
    from transformers import Sam2VideoConfig

    b = Sam2VideoConfig().vision_config.backbone_config
    return f"hidden {b.hidden_size}, blocks {list(b.blocks_per_stage)} (= Hiera-T)"


# ---------------------------------------------------------------- one video
def run_video(experts: dict, video: SyntheticVideo, images: dict, *, tag_idx, track_idx, prompts_pool, args,
              pipeline, errors: dict) -> dict:
    """All stages on one video; seconds per stage. A failing stage is recorded and the next still runs."""
    sec = {s: 0.0 for s in STAGES}
    facts: dict = {}
    start_all = time.perf_counter()
    if "tagger" in experts:  # steps 1-3 (tag, concrete nouns, paper key-frame rule)
        tagger = TimedTagger(experts["tagger"], "tag")
        start = time.perf_counter()
        try:
            _tags, nouns, keys, _ = tag_and_select(np.stack([images[i] for i in tag_idx]), tag_idx, tagger=tagger,
                                                   config=pipeline)
            facts["paper_rule"] = {"key_frames": len(keys), "nouns_per_frame": [len(n) for n in nouns]}
        except Exception:  # noqa: BLE001 - reported, the other stages still measured
            errors.setdefault("tag", traceback.format_exc(limit=6))
        sec["tag"], sec["tag_model"] = time.perf_counter() - start, tagger.seconds
    positions = select_keyframes([[]] * len(tag_idx), mode="uniform", theta_a=0, theta_b=0,
                                 uniform_keyframes=args.key_frames)
    keys = sorted({tag_idx[p] for p in positions})
    key_nouns = [[prompts_pool[(j * args.prompts + p) % len(prompts_pool)] for p in range(args.prompts)]
                 for j in range(len(keys))]
    key_images = np.stack([images[k] for k in keys])
    candidates = None
    if "detector" in experts and "segmenter" in experts:  # step 4
        detector, segmenter = ForcedDetector(experts["detector"], video), ForcedSegmenter(experts["segmenter"])
        detector.frame_indices = keys
        try:
            candidates, seconds = detect_objects(key_images, key_nouns, detector=detector, segmenter=segmenter,
                                                 config=pipeline)
            sec["detect"], sec["segment"] = seconds["detect"], seconds["segment"]
            facts["random_detector_kept_per_key_frame"] = detector.real_kept
        except Exception:  # noqa: BLE001
            errors.setdefault("detect_segment", traceback.format_exc(limit=6))
            candidates = None
    if candidates is None:  # what the forced detector + segmenter would have given: keep tracking measurable
        candidates = [[Candidate(label=n[k % len(n)], score=0.9 - 0.01 * k, box=b,
                                 mask=box_mask(b, video.height, video.width))
                       for k, b in enumerate(video.boxes(key))] for key, n in zip(keys, key_nouns)]
    facts["candidates_per_key_frame"] = [len(c) for c in candidates]
    if "tracker" in experts:  # step 5
        tracker = ForcedTracker(experts["tracker"])
        start = time.perf_counter()
        try:
            objects = track_objects(keys, candidates, images, track_idx, tracker=tracker, config=pipeline)
            facts["objects"] = len(objects)
        except Exception:  # noqa: BLE001
            errors.setdefault("track", traceback.format_exc(limit=6))
        sec["track"], sec["track_model"] = time.perf_counter() - start, tracker.seconds
        facts["tracked_frames"] = tracker.frames
    sec["total"] = time.perf_counter() - start_all
    log(f"video done: {', '.join(f'{k} {v:.3f}' for k, v in sec.items())}")
    facts["key_frames"] = keys
    return {"seconds": {k: round(v, 4) for k, v in sec.items()}, **facts}


def compare_with_model(path: str, pipeline_s: float) -> dict:
    """Pipeline seconds per video next to gpu_model_timing.py's per-sample model time.

    The model's time per sample = video branch + object-frame encoding + pooling/projector + generation (its
    ``generation`` starts from precomputed embeddings, so the encoders are added; the forward's LLM pass is not,
    generation's prefill is that pass).
    """
    model = json.loads(Path(path).read_text())
    parts = model["forward_parts"]
    encode = sum(parts[k]["median_ms"] for k in ("video_branch", "object_frames_encoding",
                                                 "object_pooling_and_projector")) / 1e3
    generation = model["generation"]["median_ms"] / 1e3
    per_sample = encode + generation
    return {"model_json": path, "model_device": model.get("device"), "model_encoders_s": round(encode, 4),
            "model_generation_s": round(generation, 4), "model_new_tokens": model.get("sample", {}).get("new_tokens"),
            "model_per_sample_s": round(per_sample, 4), "pipeline_s": round(pipeline_s, 4),
            "with_pipeline_s": round(per_sample + pipeline_s, 4),
            "added_pct": round(100 * pipeline_s / per_sample, 1),
            "paper": {"model_s": 8.27, "with_pipeline_s": 11.46, "added_pct": 38.5}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="toy models and frames on CPU (smoke test)")
    parser.add_argument("--device", default=None, help="default: cuda (cpu with --tiny)")
    # None: the full-size default, or the --tiny one (FULL / TINY above)
    parser.add_argument("--width", type=int)
    parser.add_argument("--height", type=int)
    parser.add_argument("--fps", type=float)
    parser.add_argument("--seconds", type=float, help="video length (t_o: 64 frames up to a minute, as the preset)")
    parser.add_argument("--n-frames", type=int, help="tagged frames (the paper's n)")
    parser.add_argument("--t-o", type=int, help="tracking frames (default: the preset's rule for --seconds)")
    parser.add_argument("--key-frames", type=int)
    parser.add_argument("--prompts", type=int, help="detector prompts (nouns) per key frame")
    parser.add_argument("--objects", type=int, help="objects detected per key frame and tracked")
    parser.add_argument("--detector-size", default="base", choices=["base", "tiny"])
    parser.add_argument("--tracker-size", default="large", choices=["large", "default"])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--budget-s", type=float, default=0.0,
                        help="stop timing further videos when the next would end past this many seconds (0: no limit)")
    parser.add_argument("--tf32", action="store_true", help="allow TF32 matmuls (the pipeline code does not)")
    parser.add_argument("--model-json", help="gpu_model_timing.py output to compare against")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="also write the JSON here")
    args = parser.parse_args()
    device = args.device or ("cpu" if args.tiny else "cuda")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("gpu_pipeline_timing.py needs a CUDA device (or --tiny to smoke-test on CPU)")
    for name, value in (TINY if args.tiny else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.manual_seed(args.seed)
    pipeline = load_preset("videoorion-7b").pipeline
    video_cfg = load_preset("videoorion-7b").video
    vocabulary = load_vocabulary(pipeline.tag_vocabulary)
    num_frames = int(round(args.fps * args.seconds))
    video = SyntheticVideo(width=args.width, height=args.height, num_frames=num_frames, objects=args.objects,
                           seed=args.seed)
    tag_idx = uniform_indices(num_frames, args.n_frames)
    t_o = args.t_o or video_cfg.t_o_for(args.seconds)
    track_idx = sorted(set(uniform_indices(num_frames, t_o)))
    images = {i: video.frame(i) for i in sorted(set(tag_idx) | set(track_idx))}

    errors: dict[str, str] = {}
    experts, built = {}, {}
    builders = {
        "tagger": lambda: build_tagger(vocabulary, tiny=args.tiny, device=device),
        "detector": lambda: build_detector(vocabulary, tiny=args.tiny, size=args.detector_size, device=device,
                                           pipeline=pipeline),
        "segmenter": lambda: build_segmenter(tiny=args.tiny, device=device),
        "tracker": lambda: build_tracker(tiny=args.tiny, size=args.tracker_size, device=device),
    }
    for role, build in builders.items():
        start = time.perf_counter()
        try:
            expert, name = build()
        except Exception:  # noqa: BLE001 - the other experts are still timed
            errors[f"build_{role}"] = traceback.format_exc(limit=6)
            continue
        model = expert.predictor.model if role == "segmenter" else expert.model
        experts[role] = expert
        log(f"built {role}")
        built[role] = {"model": name, "params_m": round(sum(p.numel() for p in model.parameters()) / 1e6, 1),
                       "build_s": round(time.perf_counter() - start, 2)}
    if "tracker" in built:
        built["tracker"]["transformers_default"] = sam2_default_config()
    once = {}
    if "tagger" in experts:  # the vocabulary's text embeddings: once per process, cached by the tagger
        start = time.perf_counter()
        try:
            experts["tagger"].text_embeddings()
        except Exception:  # noqa: BLE001
            errors["tag_text"] = traceback.format_exc(limit=6)
        once["tag_text_embeddings_s"] = round(time.perf_counter() - start, 3)
    from orion_core.text.wordnet import concrete_nouns

    start = time.perf_counter()
    prompts_pool = concrete_nouns(vocabulary)  # also loads WordNet (once per process)
    once["wordnet_load_and_vocabulary_nouns_s"] = round(time.perf_counter() - start, 3)

    kw = dict(tag_idx=tag_idx, track_idx=track_idx, prompts_pool=prompts_pool, args=args, pipeline=pipeline,
              errors=errors)
    signal.signal(signal.SIGTERM, _on_term)
    warm, runs = None, []
    start = time.perf_counter()
    try:
        for _ in range(args.warmup):
            warm = run_video(experts, video, images, **kw)
        once["warmup_s"] = round(time.perf_counter() - start, 2)
        if device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        for _ in range(args.reps):
            last = runs[-1]["seconds"]["total"] if runs else (warm["seconds"]["total"] if warm else 0.0)
            if args.budget_s and time.perf_counter() - T0 + last > args.budget_s:
                log(f"budget {args.budget_s} s reached after {len(runs)} timed videos")
                break
            runs.append(run_video(experts, video, images, **kw))
    except Interrupted as exc:
        errors["interrupted"] = f"{exc} after {len(runs)} timed videos"
    measured = runs or ([warm] if warm else [])  # no time left for a timed video: the warm-up's (first-call costs in)
    per_video = {s: {"median_s": round(statistics.median(r["seconds"][s] for r in measured), 4),
                     "min_s": round(min(r["seconds"][s] for r in measured), 4)} for s in STAGES} if measured else {}
    report = {
        "benchmark": "gpu_pipeline_timing",
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "device": torch.cuda.get_device_name(0) if device.startswith("cuda") else "cpu",
        "torch": torch.__version__, "transformers": __import__("transformers").__version__,
        "tiny": args.tiny, "dtype": "float32 (as the pipeline code runs)", "tf32": args.tf32,
        "video": {"width": args.width, "height": args.height, "fps": args.fps, "seconds": args.seconds,
                  "num_frames": num_frames, "n_tagged": len(tag_idx), "t_o": len(track_idx),
                  "key_frames": args.key_frames, "prompts_per_key_frame": args.prompts, "objects": args.objects,
                  "vocabulary": len(vocabulary), "decode": "not timed (frames generated in memory)"},
        "experts": built,
        "forced": {
            "key_frames": f"{args.key_frames} uniform over the tagged frames (paper rule reported, not used)",
            "prompts": f"{args.prompts} vocabulary nouns per key frame",
            "detections": f"{args.objects} true synthetic boxes per key frame after the GroundingDINO forward",
            "masks": "filled boxes after the SAM forward",
            "tracks": "start masks on every frame after the SAM2 forward (all objects live through every clip)",
        },
        "clips": [len(c) for c in split_clips(track_idx, measured[0]["key_frames"])] if measured else None,
        "once": once,
        "per_video": per_video,
        "timed_videos": len(runs),
        "per_video_source": "timed runs" if runs else ("warm-up run only (budget)" if warm else "none"),
        "runs": runs,
        "warmup_run": warm,
        "peak_memory_gib": round(torch.cuda.max_memory_allocated() / 2 ** 30, 2) if device.startswith("cuda") else None,
        "errors": errors,
    }
    if args.model_json and Path(args.model_json).is_file() and measured:
        try:
            report["compare"] = compare_with_model(args.model_json, per_video["total"]["median_s"])
        except (KeyError, ValueError) as exc:
            report["compare"] = {"error": repr(exc)}
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
