"""Tiny random-weight real experts, SAVED in their real on-disk layouts, for loading through ``from_config``.

Each fixture builds the real model class at toy sizes (hidden 12-64, 1-2 layers), writes it the way the real
weights are distributed (transformers ``save_pretrained`` directories; a segment-anything ``.pth`` state dict) and
returns the path, so the tests exercise the same loading code a 7B preset does. Sizes follow the traps in
/work/shared/ENVIRONMENT.md (GroundingDINO: Swin backbone, 1-layer BERT, decoder_layers=2, images >= 128 px,
bert-base-uncased special-token ids; SAM2: Hiera sizes, 128-wide prompt/decoder, memory channels 64).
"""

from __future__ import annotations

import string
from pathlib import Path

import numpy as np
import pytest

LETTERS = string.ascii_lowercase


@pytest.fixture
def frames() -> np.ndarray:
    """Two random RGB frames, (2, 96, 128, 3) uint8."""
    return np.random.default_rng(0).integers(0, 256, (2, 96, 128, 3), dtype=np.uint8)


@pytest.fixture
def small_vocabulary(tmp_path) -> Path:
    path = tmp_path / "vocab.txt"
    path.write_text("# a comment line\ndog\ncat\nball\n\nice cream\ntraffic light\nperson\n")
    return path


def _char_bpe_tokenizer():
    """A CLIP BPE tokenizer whose tokens are single letters (any lowercase word tokenises, one token per letter)."""
    from transformers import CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in LETTERS:
        vocab[c] = len(vocab)
        vocab[c + "</w>"] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=[]), len(vocab)


def _dual_encoder_sizes(vocab_size: int) -> tuple[dict, dict]:
    text = dict(vocab_size=vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                num_attention_heads=4, max_position_embeddings=64, bos_token_id=0, eos_token_id=1, pad_token_id=1)
    vision = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=4,
                  image_size=32, patch_size=8)
    return text, vision


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory) -> Path:
    """A tiny CLIPModel + CLIPProcessor saved with save_pretrained."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    torch.manual_seed(0)
    tokenizer, vocab_size = _char_bpe_tokenizer()
    text, vision = _dual_encoder_sizes(vocab_size)
    model = CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=16))
    processor = CLIPProcessor(image_processor=CLIPImageProcessor(size={"shortest_edge": 32},
                                                                 crop_size={"height": 32, "width": 32}),
                              tokenizer=tokenizer)
    out = tmp_path_factory.mktemp("clip-tiny")
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def siglip_dir(tmp_path_factory) -> Path:
    """A tiny SiglipModel + SiglipProcessor saved with save_pretrained (fast tokenizer: sentencepiece is absent)."""
    import torch
    from transformers import PreTrainedTokenizerFast, SiglipConfig, SiglipImageProcessor, SiglipModel, SiglipProcessor

    torch.manual_seed(0)
    clip_tok, vocab_size = _char_bpe_tokenizer()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=clip_tok.backend_tokenizer, pad_token="<|endoftext|>",
                                        eos_token="<|endoftext|>", model_max_length=64,
                                        model_input_names=["input_ids"])  # as SiglipTokenizer: no attention mask
    text, vision = _dual_encoder_sizes(vocab_size)
    model = SiglipModel(SiglipConfig(text_config=text, vision_config=vision))
    processor = SiglipProcessor(image_processor=SiglipImageProcessor(size={"height": 32, "width": 32}),
                                tokenizer=tokenizer)
    out = tmp_path_factory.mktemp("siglip-tiny")
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


def bert_letter_vocab() -> dict[str, int]:
    """A WordPiece vocabulary with bert-base-uncased's special ids and single letters (plus ``##`` pieces)."""
    special = {0: "[PAD]", 100: "[UNK]", 101: "[CLS]", 102: "[SEP]", 103: "[MASK]", 1012: ".", 1029: "?"}
    tokens = [special.get(i, f"[unused{i}]") for i in range(1030)]
    tokens += list(LETTERS) + [f"##{c}" for c in LETTERS]
    return {t: i for i, t in enumerate(tokens)}


@pytest.fixture(scope="session")
def grounding_dino_dir(tmp_path_factory) -> Path:
    """A tiny GroundingDinoForObjectDetection + GroundingDinoProcessor (max_text_len 32) saved with save_pretrained."""
    import torch
    from transformers import (BertConfig, BertTokenizer, GroundingDinoConfig, GroundingDinoForObjectDetection,
                              GroundingDinoImageProcessor, GroundingDinoProcessor, SwinConfig)

    torch.manual_seed(0)
    vocab = bert_letter_vocab()
    swin = SwinConfig(image_size=128, patch_size=4, embed_dim=16, depths=[1, 1, 1, 1], num_heads=[1, 2, 2, 4],
                      window_size=4, out_indices=[2, 3, 4])
    bert = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                      intermediate_size=64, max_position_embeddings=64)
    config = GroundingDinoConfig(backbone_config=swin, text_config=bert, d_model=32, num_queries=10,
                                 encoder_layers=1, decoder_layers=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
                                 encoder_attention_heads=2, decoder_attention_heads=2, max_text_len=32)
    model = GroundingDinoForObjectDetection(config)
    processor = GroundingDinoProcessor(
        image_processor=GroundingDinoImageProcessor(size={"shortest_edge": 128, "longest_edge": 192}),
        tokenizer=BertTokenizer(vocab=vocab, do_lower_case=True),
    )
    out = tmp_path_factory.mktemp("grounding-dino-tiny")
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_sam_arch():
    """64-px input, 4x4 patch grid; block 0 windowed (window 2), block 1 global - so both kinds get loaded."""
    from orion_core.pipeline.experts.sam import SamArch

    return SamArch(encoder_embed_dim=32, encoder_depth=2, encoder_num_heads=2, encoder_global_attn_indexes=(1,),
                   image_size=64, patch_size=16, window_size=2, prompt_embed_dim=32, decoder_depth=1,
                   decoder_mlp_dim=64, iou_head_hidden_dim=32)


@pytest.fixture(scope="session")
def sam_checkpoint(tmp_path_factory, tiny_sam_arch) -> Path:
    """A tiny segment-anything model's state_dict saved with torch.save, like the official sam_vit_*.pth files."""
    import torch

    from orion_core.pipeline.experts.sam import build_sam

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("sam-tiny") / "sam_tiny.pth"
    torch.save(build_sam(tiny_sam_arch).state_dict(), path)
    return path


@pytest.fixture(scope="session")
def sam2_dir(tmp_path_factory) -> Path:
    """A tiny Sam2VideoModel + Sam2VideoProcessor (128-px input) saved with save_pretrained."""
    import torch
    from transformers import (Sam2HieraDetConfig, Sam2ImageProcessor, Sam2VideoConfig, Sam2VideoModel,
                              Sam2VideoProcessor, Sam2VideoVideoProcessor, Sam2VisionConfig)

    torch.manual_seed(0)
    size = 128
    hiera = Sam2HieraDetConfig(hidden_size=12, image_size=[size, size], blocks_per_stage=[1, 1, 2, 1],
                               embed_dim_per_stage=[12, 24, 48, 96], num_attention_heads_per_stage=[1, 1, 2, 2],
                               global_attention_blocks=[3], window_size_per_stage=[4, 4, 4, 4],
                               window_positional_embedding_background_size=[4, 4])
    vision = Sam2VisionConfig(backbone_config=hiera, backbone_channel_list=[96, 48, 24, 12],
                              backbone_feature_sizes=[[32, 32], [16, 16], [8, 8]], fpn_hidden_size=128)
    config = Sam2VideoConfig(
        vision_config=vision, image_size=size,
        prompt_encoder_config=dict(hidden_size=128, image_size=size, patch_size=16),
        mask_decoder_config=dict(hidden_size=128, mlp_dim=64, num_hidden_layers=1, num_attention_heads=2,
                                 iou_head_hidden_dim=32),
        num_maskmem=2, memory_attention_hidden_size=128, memory_attention_num_layers=1,
        memory_attention_feed_forward_hidden_size=64, memory_attention_rope_feat_sizes=[8, 8],
        memory_encoder_hidden_size=128, memory_encoder_output_channels=64, mask_downsampler_embed_dim=128,
        memory_fuser_embed_dim=128, memory_fuser_intermediate_dim=64, memory_fuser_num_layers=1,
    )
    model = Sam2VideoModel(config)
    processor = Sam2VideoProcessor(
        image_processor=Sam2ImageProcessor(size={"height": size, "width": size},
                                           mask_size={"height": size // 4, "width": size // 4}),
        video_processor=Sam2VideoVideoProcessor(size={"height": size, "width": size}), target_size=size,
    )
    out = tmp_path_factory.mktemp("sam2-tiny")
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


def tiny_sam3_config(px: int = 112, patch: int = 14):
    """A Sam3VideoConfig at toy sizes: ViT 32-wide x 2 layers, 1-layer CLIP text tower, 1-layer DETR, SAM2-style
    tracker 128-wide (its memory encoder hard-codes 64 output channels), detection thresholds at 0 so random
    weights still propose objects."""
    from transformers import (Sam3Config, Sam3DETRDecoderConfig, Sam3DETREncoderConfig, Sam3GeometryEncoderConfig,
                              Sam3MaskDecoderConfig, Sam3TrackerVideoConfig, Sam3VideoConfig, Sam3VisionConfig,
                              Sam3ViTConfig)
    from transformers.models.sam3_tracker_video.configuration_sam3_tracker_video import (
        Sam3TrackerVideoMaskDecoderConfig, Sam3TrackerVideoPromptEncoderConfig)

    grid, fpn = px // patch, 128
    levels = [[4 * grid] * 2, [2 * grid] * 2, [grid] * 2]
    vit = Sam3ViTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                        image_size=px, patch_size=patch, window_size=grid // 2, global_attn_indexes=[1])
    detector = Sam3Config(
        vision_config=Sam3VisionConfig(backbone_config=vit, fpn_hidden_size=fpn, scale_factors=[4.0, 2.0, 1.0, 0.5],
                                       backbone_feature_sizes=levels),
        text_config=dict(vocab_size=64, hidden_size=32, intermediate_size=64, projection_dim=32, num_hidden_layers=1,
                         num_attention_heads=4, max_position_embeddings=32, bos_token_id=0, eos_token_id=1),
        geometry_encoder_config=Sam3GeometryEncoderConfig(hidden_size=fpn, num_layers=1, num_attention_heads=4,
                                                          intermediate_size=64, mask_fuser_hidden_size=fpn,
                                                          mask_fuser_num_layers=1),
        detr_encoder_config=Sam3DETREncoderConfig(hidden_size=fpn, num_layers=1, num_attention_heads=4,
                                                  intermediate_size=64),
        detr_decoder_config=Sam3DETRDecoderConfig(hidden_size=fpn, num_layers=1, num_queries=4, num_attention_heads=4,
                                                  intermediate_size=64),
        mask_decoder_config=Sam3MaskDecoderConfig(hidden_size=fpn, num_upsampling_stages=2),
    )
    tracker = Sam3TrackerVideoConfig(
        vision_config=dict(backbone_feature_sizes=levels, fpn_hidden_size=fpn),
        prompt_encoder_config=Sam3TrackerVideoPromptEncoderConfig(hidden_size=fpn, image_size=px, patch_size=patch),
        mask_decoder_config=Sam3TrackerVideoMaskDecoderConfig(hidden_size=fpn, mlp_dim=64, num_hidden_layers=1,
                                                              num_attention_heads=2, iou_head_hidden_dim=32),
        num_maskmem=2, memory_attention_hidden_size=fpn, memory_attention_num_layers=1,
        memory_attention_feed_forward_hidden_size=64, memory_attention_rope_feat_sizes=[grid, grid],
        memory_encoder_hidden_size=fpn, memory_encoder_output_channels=64, mask_downsampler_embed_dim=fpn,
        memory_fuser_embed_dim=fpn, memory_fuser_intermediate_dim=64, memory_fuser_num_layers=1, image_size=px,
    )
    return Sam3VideoConfig(detector_config=detector, tracker_config=tracker, low_res_mask_size=4 * grid,
                           score_threshold_detection=0.0, new_det_thresh=0.0, hotstart_delay=0), px


@pytest.fixture(scope="session")
def sam3_dir(tmp_path_factory) -> Path:
    """A tiny Sam3VideoModel + Sam3VideoProcessor (letter-level CLIP tokenizer) saved with save_pretrained."""
    import torch
    from transformers import Sam2VideoVideoProcessor, Sam3ImageProcessor, Sam3VideoModel, Sam3VideoProcessor

    torch.manual_seed(0)
    config, px = tiny_sam3_config()
    model = Sam3VideoModel(config)
    tokenizer, _ = _char_bpe_tokenizer()
    processor = Sam3VideoProcessor(image_processor=Sam3ImageProcessor(size={"height": px, "width": px}),
                                   video_processor=Sam2VideoVideoProcessor(size={"height": px, "width": px}),
                                   tokenizer=tokenizer, target_size=px)
    out = tmp_path_factory.mktemp("sam3-tiny")
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out
