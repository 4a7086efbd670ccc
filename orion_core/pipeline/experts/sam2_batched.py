"""SAM2 video tracking with every object of a clip in ONE batched forward per frame (a ``Sam2VideoModel`` subclass).

transformers' ``Sam2VideoModel.forward`` loops ``for obj_idx in range(num_objects)`` with batch size 1: each
object's memory attention, mask decoder and object pointer run on their own, so the cost of a frame grows
linearly with the number of objects (only the image encoder is shared). When every object of the session is at
the same point of its history, which is how detect-segment-track uses the tracker (all masks are given on the
clip's first frame, then every object is tracked through every frame), the per-object work is the same
computation on different tensors. :class:`BatchedSam2VideoModel` stacks it on the batch axis:

* memory: each object's conditioning-frame and recent-frame memories (``(HW, 1, C)`` each) are gathered with the
  parent's own helpers and concatenated over objects -> ``(M, N, C)``; object pointers likewise -> ``(P, N, C)``;
* one memory-attention pass over ``(HW, N, C)``, one mask-decoder pass over ``N`` images (point batch 1), one
  memory-encoder pass (the parent batches only this last one);
* the per-object results are written back into the session exactly where the parent writes them, so the session
  stays a plain ``Sam2VideoInferenceSession`` (post-processing, later prompts and the parent's path still work).

Anything else (new prompts on this frame, a conditioning frame, streamed frames, objects with different
histories) goes through the parent's per-object ``forward`` unchanged. Masks match the one-at-a-time path up to
float rounding (tests/core/pipeline/experts/test_sam2_batched.py: IoU >= 0.99 with the same weights).

Only the parent's documented session layout and its helper methods are used (``_prepare_vision_features``,
``_gather_memory_frame_outputs``, ``_build_memory_attention_inputs``, ``_get_object_pointers``,
``_process_object_pointers``, ``_single_frame_forward``, ``_encode_new_memory``); they are private, so the
transformers version is pinned (requirements.txt) and the equality test guards an upgrade.
"""

from __future__ import annotations

import torch
from transformers import Sam2VideoModel
import torch.nn.functional as F
from transformers.models.sam2_video.modeling_sam2_video import (NO_OBJ_SCORE, Sam2VideoInferenceSession,
                                                                Sam2VideoSegmentationOutput)


class BatchedSam2VideoModel(Sam2VideoModel):
    """``Sam2VideoModel`` whose ``forward`` advances all lockstep objects of a frame together (same weights)."""

    def _lockstep(self, session: Sam2VideoInferenceSession, frame_idx: int) -> bool:
        """True when every object can share one batched step on ``frame_idx``: nothing new to condition on, not a
        conditioning frame, and identical memory histories (so their memory and pointer tokens line up)."""
        num_objects = session.get_obj_num()
        if num_objects < 2 or session.obj_with_new_inputs:
            return False
        signature = None
        for obj_idx in range(num_objects):
            outputs = session.output_dict_per_obj[obj_idx]
            cond = outputs["cond_frame_outputs"]
            if frame_idx in cond or not cond:
                return False
            mine = (tuple(sorted(cond)), tuple(sorted(outputs["non_cond_frame_outputs"])))
            if signature is None:
                signature = mine
            elif mine != signature:
                return False
        return True

    @torch.inference_mode()
    def forward(self, inference_session: Sam2VideoInferenceSession, frame_idx: int | None = None,
                frame: torch.Tensor | None = None, reverse: bool = False, run_mem_encoder: bool = True,
                **kwargs) -> Sam2VideoSegmentationOutput:
        if frame is not None or frame_idx is None or not self._lockstep(inference_session, frame_idx):
            return super().forward(inference_session, frame_idx=frame_idx, frame=frame, reverse=reverse,
                                   run_mem_encoder=run_mem_encoder, **kwargs)
        return self._batched_step(inference_session, frame_idx, reverse=reverse, run_mem_encoder=run_mem_encoder)

    def _batched_memory(self, session: Sam2VideoInferenceSession, frame_idx: int, num_objects: int,
                        reverse: bool, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, int]:
        """Memory tokens (M, N, C_mem), their positions (M, N, C_mem) and how many trailing ones are pointers."""
        memories, positions, pointer_lists = [], [], []
        offsets, max_pointers = None, 0
        for obj_idx in range(num_objects):
            previous = self._gather_memory_frame_outputs(session, obj_idx, frame_idx, reverse)
            mem, pos = self._build_memory_attention_inputs(previous, device)  # lists of (HW, 1, C_mem)
            memories.append(torch.cat(mem, dim=0))
            positions.append(torch.cat(pos, dim=0))
            offsets, pointers, max_pointers = self._get_object_pointers(
                session, obj_idx, frame_idx, session.num_frames, device, reverse, False)
            pointer_lists.append(pointers)  # P tensors of (1, C)
        memory = torch.cat(memories, dim=1)  # (M, N, C_mem)
        memory_pos = torch.cat(positions, dim=1)
        num_pointer_tokens = 0
        if pointer_lists[0]:
            stacked = [torch.cat([pointers[p] for pointers in pointer_lists], dim=0)  # (N, C)
                       for p in range(len(pointer_lists[0]))]
            pointer_tokens, pointer_pos = self._process_object_pointers(
                offsets, stacked, max_pointers, num_objects, self.hidden_dim, device)  # (P', N, C_mem)
            memory = torch.cat([memory, pointer_tokens.to(memory.dtype)], dim=0)
            memory_pos = torch.cat([memory_pos, pointer_pos], dim=0)
            num_pointer_tokens = pointer_tokens.shape[0]
        return memory.to(dtype=session.dtype), memory_pos, num_pointer_tokens

    def _decode_unprompted(self, image_embeddings: list[torch.Tensor]
                           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """SAM head on N memory-conditioned frames without prompts, as the parent's ``_single_frame_forward`` with
        ``image_embeddings`` does for one, but with the best-of-three pick indexed per batch row (the parent's
        ``[arange(B), arange(1), argmax (B, 1)]`` broadcasts to B x B rows once B > 1).

        image_embeddings: high-resolution levels (N, C_l, H_l, W_l) + memory-conditioned (N, C, H, W).
        Returns low-res mask logits (N, 1, h, w), high-res logits (N, 1, S, S), object pointers (N, 1, C) and object
        score logits (N, 1, 1), shaped as the parent stores them per object.
        """
        batch = image_embeddings[-1].shape[0]
        device, dtype = image_embeddings[-1].device, image_embeddings[-1].dtype
        positions = self.get_image_wide_positional_embeddings().repeat(batch, 1, 1, 1)
        points = torch.zeros(batch, 1, 1, 2, dtype=dtype, device=device)  # no prompt: one padding point, label -1
        labels = -torch.ones(batch, 1, 1, dtype=torch.int32, device=device)
        sparse, dense = self.prompt_encoder(input_points=points, input_labels=labels, input_boxes=None,
                                            input_masks=None)
        multimask = self._use_multimask(False, None)
        low_res, iou_scores, tokens, score_logits = self.mask_decoder(
            image_embeddings=image_embeddings[-1], image_positional_embeddings=positions,
            sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense, multimask_output=multimask,
            high_resolution_features=image_embeddings[:-1],
        )  # (N, 1, M, h, w), (N, 1, M), (N, 1, M', C), (N, 1, 1)
        appearing = score_logits > 0
        low_res = torch.where(appearing[:, None, None], low_res, NO_OBJ_SCORE)
        high_res = F.interpolate(low_res.squeeze(1).float(), size=(self.image_size, self.image_size),
                                 mode="bilinear", align_corners=False).unsqueeze(1).to(low_res.dtype)  # (N, 1, M, S, S)
        token = tokens[:, :, 0]  # (N, 1, C)
        if multimask:
            rows = torch.arange(batch, device=device)
            best = torch.argmax(iou_scores[:, 0], dim=-1)  # (N,)
            low_res, high_res = low_res[rows, 0, best][:, None], high_res[rows, 0, best][:, None]  # (N, 1, ., .)
            if tokens.size(2) > 1:
                token = tokens[rows, 0, best][:, None]  # (N, 1, C)
        else:
            low_res, high_res = low_res[:, :, 0], high_res[:, :, 0]
        pointer = self.object_pointer_proj(token)
        weight = appearing.to(pointer.dtype)
        pointer = weight * pointer + (1 - weight) * self.no_object_pointer
        return low_res, high_res, pointer, score_logits

    def _batched_step(self, session: Sam2VideoInferenceSession, frame_idx: int, *, reverse: bool,
                      run_mem_encoder: bool) -> Sam2VideoSegmentationOutput:
        num_objects = session.get_obj_num()
        feats, pos_embeds = self._prepare_vision_features(session, frame_idx, batch_size=1)  # (HW_l, 1, C_l) per level
        feats = [f.expand(-1, num_objects, -1) for f in feats]  # (HW_l, N, C_l): the image is shared
        height, width = self.backbone_feature_sizes[-1]
        high_res = [f.permute(1, 2, 0).reshape(num_objects, f.shape[2], *size)  # (N, C_l, H_l, W_l)
                    for f, size in zip(feats[:-1], self.backbone_feature_sizes[:-1])]
        device = feats[-1].device
        memory, memory_pos, num_pointer_tokens = self._batched_memory(session, frame_idx, num_objects, reverse, device)
        conditioned = self.memory_attention(
            current_vision_features=feats[-1],
            current_vision_position_embeddings=pos_embeds[-1].expand(-1, num_objects, -1),
            memory=memory, memory_posision_embeddings=memory_pos, num_object_pointer_tokens=num_pointer_tokens,
        )  # (1, N, HW, C): the parent's "seq-first" transpose of its (N, 1, HW, C) batch-first output
        pix_feat = conditioned.reshape(num_objects, height * width, self.hidden_dim).transpose(1, 2)
        pix_feat = pix_feat.reshape(num_objects, self.hidden_dim, height, width)  # (N, C, H, W)
        pred_masks, high_res_masks, pointers, scores = self._decode_unprompted(high_res + [pix_feat])
        maskmem = maskmem_pos = None
        if run_mem_encoder and self.num_maskmem > 0:
            maskmem, maskmem_pos = self._encode_new_memory(current_vision_feats=feats[-1],
                                                           pred_masks_high_res=high_res_masks,
                                                           object_score_logits=scores, is_mask_from_pts=False)
        for obj_idx in range(num_objects):
            out = {"pred_masks": pred_masks[obj_idx:obj_idx + 1],
                   "object_pointer": pointers[obj_idx:obj_idx + 1],
                   "high_res_masks": high_res_masks[obj_idx:obj_idx + 1]}
            if not self.training:
                out["object_score_logits"] = scores[obj_idx:obj_idx + 1]
            if maskmem is not None:
                out["maskmem_features"] = maskmem[:, obj_idx:obj_idx + 1]  # (HW, 1, C_mem)
                out["maskmem_pos_enc"] = maskmem_pos[:, obj_idx:obj_idx + 1]
            session.store_output(obj_idx, frame_idx, output_value=out, is_conditioning_frame=False)
            session.frames_tracked_per_obj[obj_idx][frame_idx] = {"reverse": reverse}
        return Sam2VideoSegmentationOutput(object_ids=session.obj_ids.copy(), pred_masks=pred_masks,
                                           object_score_logits=scores.squeeze(-1), frame_idx=frame_idx)
