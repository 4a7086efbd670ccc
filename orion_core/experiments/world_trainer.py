"""A training callable for the ablation over the synthetic world, through the training job (orion_core.train).

    trainer = WorldTrainer(world_dir="data/raw", work_dir="runs/ablation/data")
    result = run_ablation(trainer, config, out_dir="runs/ablation")

Both variants run the same three stages (1 video projector, 2 object projector, 3 both projectors + LLM) on
the same records (the world's pretrain and instruct splits; train.json written once) for the same number of
steps; they differ only in the mask lists each video gets:

* VideoOrion: the world's ground-truth masks on the t_o tracked frames (``orion_core.data.synthetic.truth_masks``:
  an oracle detect-segment-track, so pipeline misses do not blur the comparison);
* video-only: an empty mask list per video - no object tokens in any prompt. Stage 2 trains only the object
  projector, which then sits in no prompt: its steps would be zero-gradient updates (Adam, no weight decay:
  no change), so the video-only stage 2 exports its init unchanged (``max_steps=0``) instead of running them.

Each stage starts from the previous stage's export; the stage-3 export is what the ablation evaluates.

``mc_instruct=True`` adds, for both variants alike, one conversation per instruct video asking the world's
multiple-choice questions about *that training video* in the evaluation's prompt, answered ``(B) text``:
the instruct split never shows the benchmark's question forms or options, and without them a small model
never learns to name an option. Benchmark videos and questions are untouched (different videos, another seed).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from orion_core.config import OrionConfig

STAGES = (1, 2, 3)


class WorldTrainer:
    """``train(config, *, seed, use_objects, out_dir) -> stage-3 checkpoint folder`` (see the module doc)."""

    def __init__(self, *, world_dir: str | Path, work_dir: str | Path, max_steps: int | None = None,
                 reporter: Any = None, mc_instruct: bool = False) -> None:
        self.world = Path(world_dir)
        self.work = Path(work_dir)
        self.max_steps = max_steps
        """Cap on optimizer steps per stage (None: each stage's epochs)."""
        self.mc_instruct = mc_instruct
        self.reporter = reporter
        self.summaries: list[dict[str, Any]] = []

    def data(self) -> Path:
        """train.json: every pretrain and instruct record of the world, with its split and video id."""
        path = self.work / ("train_mc.json" if self.mc_instruct else "train.json")
        if not path.is_file():
            records = []
            for split in ("pretrain", "instruct"):
                for sample in json.loads((self.world / f"{split}.json").read_text()):
                    records.append({**sample, "video_id": sample["id"], "split": split})
            if self.mc_instruct:
                records += self._mc_records([r for r in records if r["split"] == "instruct"])
            self.work.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(records))
        return path

    def _mc_records(self, instruct: list[dict]) -> list[dict]:
        """Multiple-choice conversations about the instruct videos, in the evaluation's prompt and answer form."""
        import numpy as np

        from orion_core.data.synthetic.questions import AnswerPositions, mc_items

        from orion_core.eval.answers import letter_of
        from orion_core.eval.items import Item
        from orion_core.eval.prompts import mc_prompt

        positions = AnswerPositions(np.random.default_rng([7, 7]))
        out = []
        for k, rec in enumerate(instruct):
            ann = json.loads((self.world / "annotations" / f"{rec['video_id']}.json").read_text())
            turns: list[dict[str, str]] = []
            for q in mc_items(ann, np.random.default_rng([7, k]), positions, video=rec["video"]):
                item = Item(id=q["id"], benchmark="synthetic", kind="mc", video=rec["video"], question=q["question"],
                            task=q["task"], candidates=tuple(q["candidates"]), answer_idx=q["answer_idx"])
                human = mc_prompt(item)
                turns += [{"from": "human", "value": f"<video>\n{human}" if not turns else human},
                          {"from": "gpt", "value": f"({letter_of(q['answer_idx'])}) {q['answer']}"}]
            if turns:
                out.append({"id": f"{rec['video_id']}_mc", "video": rec["video"], "video_id": rec["video_id"],
                            "split": "instruct", "conversations": turns})
        return out

    def masks(self, config: OrionConfig, *, use_objects: bool) -> Path:
        """Mask index for a variant: ground truth (VideoOrion) or one empty mask list per video (video-only)."""
        from orion_core.contracts.masklist import MaskList
        from orion_core.data.synthetic.truth_masks import INDEX_FILE, write_world_masks

        folder = self.work / ("masks_truth" if use_objects else "masks_empty") / config.digest("video", "pipeline")
        index = folder / INDEX_FILE
        if index.is_file():
            return index
        if use_objects:
            return write_world_masks(self.world, folder, config=config)
        folder.mkdir(parents=True, exist_ok=True)
        entries = {}
        for path in sorted((self.world / "annotations").glob("*.json")):
            ann = json.loads(path.read_text())
            empty = MaskList(height=int(ann["height"]), width=int(ann["width"]), objects=(),
                             num_frames=int(ann["num_frames"]), meta={"source": "video-only ablation: no objects"})
            empty.save(folder / f"{ann['video_id']}.masks.json")
            entries[ann["video_id"]] = f"{ann['video_id']}.masks.json"
        index.write_text(json.dumps(entries, indent=1, sort_keys=True))
        return index

    def __call__(self, config: OrionConfig, *, seed: int, use_objects: bool, out_dir: str | Path) -> Path:
        from orion_core.train import TrainJob, run_training

        out = Path(out_dir)
        data, masks = self.data(), self.masks(config, use_objects=use_objects)
        init = None
        for stage in STAGES:
            job = TrainJob(stage=stage, config=config, data=data, video_root=self.world, out=out / f"stage{stage}",
                           masks=masks if stage > 1 else None, init=init,
                           max_steps=0 if (stage == 2 and not use_objects) else self.max_steps,
                           preset=config.name, overrides=(f"train.seed={seed}",))
            summary = run_training(job, reporter=self.reporter)
            self.summaries.append({"seed": seed, "use_objects": use_objects, "stage": stage, "steps": summary.steps,
                                   "first_loss": summary.first_loss, "final_loss": summary.final_loss})
            init = out / f"stage{stage}" / "export"
        return init
