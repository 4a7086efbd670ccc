"""MVBench (Li et al., CVPR 2024): 20 temporal tasks, each a JSON list of multiple-choice questions.

Published layout (the dataset's ``json/`` and ``video/`` folders)::

    json/action_sequence.json ... json/counterfactual_inference.json     one file per task
        [{"video": "ZS9XR.mp4", "question": "...", "candidates": ["...", ...], "answer": "<one candidate>",
          "start": 11.1, "end": 19.4}]           # start/end (seconds) only for tasks marked "bound" below
    video/<dataset folder>/<video>             e.g. video/clevrer/video_validation/video_10009.mp4

Episodic Reasoning (TVQA) ships frame folders (``video/tvqa/frames_fps3_hq/<clip>/*.jpg`` at 3 fps) instead
of video files; its items carry ``extra["frame_folder"] = True`` and ``extra["fps"] = 3``.
The answer is given as text; ``answer_idx`` is its position among the candidates (which keep their order).
"""

from __future__ import annotations

from typing import Iterator

from ..items import BenchmarkError, Item, Source

NAME = "mvbench"

# task -> (json file, video folder under video/, data type, has start/end bounds)  (MVBench's data_list)
TASKS: dict[str, tuple[str, str, str, bool]] = {
    "Action Sequence": ("action_sequence.json", "star/Charades_v1_480", "video", True),
    "Action Prediction": ("action_prediction.json", "star/Charades_v1_480", "video", True),
    "Action Antonym": ("action_antonym.json", "ssv2_video", "video", False),
    "Fine-grained Action": ("fine_grained_action.json", "Moments_in_Time_Raw/videos", "video", False),
    "Unexpected Action": ("unexpected_action.json", "FunQA_test/test", "video", False),
    "Object Existence": ("object_existence.json", "clevrer/video_validation", "video", False),
    "Object Interaction": ("object_interaction.json", "star/Charades_v1_480", "video", True),
    "Object Shuffle": ("object_shuffle.json", "perception/videos", "video", False),
    "Moving Direction": ("moving_direction.json", "clevrer/video_validation", "video", False),
    "Action Localization": ("action_localization.json", "sta/sta_video", "video", True),
    "Scene Transition": ("scene_transition.json", "scene_qa/video", "video", False),
    "Action Count": ("action_count.json", "perception/videos", "video", False),
    "Moving Count": ("moving_count.json", "clevrer/video_validation", "video", False),
    "Moving Attribute": ("moving_attribute.json", "clevrer/video_validation", "video", False),
    "State Change": ("state_change.json", "perception/videos", "video", False),
    "Fine-grained Pose": ("fine_grained_pose.json", "nturgbd", "video", False),
    "Character Order": ("character_order.json", "perception/videos", "video", False),
    "Egocentric Navigation": ("egocentric_navigation.json", "vlnqa", "video", False),
    "Episodic Reasoning": ("episodic_reasoning.json", "tvqa/frames_fps3_hq", "frame", True),
    "Counterfactual Inference": ("counterfactual_inference.json", "clevrer/video_validation", "video", False),
}
FRAME_FPS = 3.0
"""Frame rate of the frame-folder task (TVQA frames at 3 fps)."""


def load(source: Source) -> Iterator[Item]:
    for task, (json_name, folder, data_type, bound) in TASKS.items():
        where = source.uri(f"json/{json_name}")
        records = source.read_json(f"json/{json_name}", what=f"MVBench task {task!r}")
        if not isinstance(records, list):
            raise BenchmarkError(f"{where}: expected a list of questions, got {type(records).__name__}")
        stem = json_name.rsplit(".", 1)[0]
        for i, r in enumerate(records):
            try:
                candidates = tuple(str(c) for c in r["candidates"])
                question, answer, video = str(r["question"]), str(r["answer"]), str(r["video"])
            except KeyError as exc:
                raise BenchmarkError(f"{where}: question {i} lacks {exc}") from None
            if answer not in candidates:
                raise BenchmarkError(f"{where}: question {i}: answer {answer!r} is not among {list(candidates)}")
            extra: dict = {"source_video": video}
            if bound:
                if "start" not in r or "end" not in r:
                    raise BenchmarkError(f"{where}: question {i} of a bounded task lacks start/end")
                extra.update(start=float(r["start"]), end=float(r["end"]))
            if data_type == "frame":
                extra.update(frame_folder=True, fps=FRAME_FPS)
            yield Item(id=f"{stem}_{i}", benchmark=NAME, kind="mc", video=source.uri(f"video/{folder}/{video}"),
                       question=question, task=task, candidates=candidates, answer=answer,
                       answer_idx=candidates.index(answer), extra=extra)
