"""What evaluation asks a model, and the adapter that puts :class:`~orion_core.inference.OrionPredictor` behind it.

Evaluation needs only :class:`Predictor` (``ask(item, prompt) -> text``) and, for referring items,
:class:`Referrer` (``refer(item, prompt) -> text``); the item carries the video, question, candidates and
extras (clip bounds, box). Anything with those methods can be scored - a checkpoint through
:class:`OrionAnswerer`, or another model entirely.

:class:`OrionAnswerer` prepares each item's video once per (video, clip) and chooses the object masks:

* ``pipeline`` - detect-segment-track on the video (the paper's setting), cached by content address
  (video sha256 + pipeline config) under ``eval.masks_cache``;
* ``none``     - no object tokens: the video-only model of the ablation;
* ``oracle``   - the synthetic world's ground-truth masks (a diagnostic: is a miss the pipeline's or the model's?);
* ``shuffled`` - another benchmark video's pipeline objects (a fixed derangement over the benchmark's videos,
  :func:`orion_core.contracts.donors.object_donors`): the Table 4 control whose object tokens say nothing about
  the video asked about. Set :attr:`OrionAnswerer.donors` (``evaluate`` does) before asking.

Clips with start/end bounds and frame folders are cut to at most ``CLIP_FRAMES`` uniformly sampled frames and
written as an mp4 in a private temporary folder, so the pipeline and the predictor read one ordinary file.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from orion_core.config import OrionConfig, PROJECT_ROOT

from .items import Item, Source, fetch, fetch_frames

CLIP_FRAMES = 128
"""Most frames kept from a bounded clip or frame folder (t_o_long; the predictor samples t_v and t_o from them)."""


@runtime_checkable
class Predictor(Protocol):
    def ask(self, item: Item, prompt: str) -> str:
        """Answer ``prompt`` (built from ``item``) about ``item``'s video; free text."""


@runtime_checkable
class Referrer(Protocol):
    def refer(self, item: Item, prompt: str) -> str:
        """Describe the object under ``item.extra["box"]`` (on ``item.extra["frame"]``, frame 0 here)."""


class OrionAnswerer:
    """:class:`Predictor` and :class:`Referrer` over an ``OrionPredictor``."""

    def __init__(self, *, predictor: Any, config: OrionConfig, objects: str | None = None,
                 max_new_tokens: int | None = None, device: str = "cpu") -> None:
        self.predictor = predictor
        self.config = config
        self.objects = objects or config.eval.objects
        if self.objects not in ("pipeline", "none", "oracle", "shuffled"):
            raise ValueError(f"objects must be pipeline, none, oracle or shuffled, got {self.objects!r}")
        self.donors: dict[str, str] = {}
        """video URI -> the video whose objects it gets (``shuffled`` only)."""
        self._donor_predictor: Any = None
        self.max_new_tokens = max_new_tokens or config.eval.max_new_tokens
        self.device = device
        self.endpoint_url = config.eval.s3_endpoint_url or config.data.s3_endpoint_url
        self._pipeline = None
        self._key: tuple | None = None
        self._tmp: Path | None = None
        self.object_counts: list[int] = []
        """Objects given to the model per prepared video (a report shows how many the pipeline found)."""
        self.objects_dropped: list[int] = []
        """Of those, per prepared video, how many the object-token cap left out (``model.max_object_tokens``)."""

    @classmethod
    def from_checkpoint(cls, directory: str | Path, *, config: OrionConfig, device: str = "cpu",
                        **kwargs: Any) -> "OrionAnswerer":
        from orion_core.inference.predictor import OrionPredictor

        return cls(predictor=OrionPredictor.from_checkpoint(directory, device=device), config=config,
                   device=device, **kwargs)

    def describe(self) -> dict[str, Any]:
        return {"predictor": type(self.predictor).__name__, "objects": self.objects,
                "max_new_tokens": self.max_new_tokens}

    # ------------------------------------------------------------------ Predictor / Referrer
    def ask(self, item: Item, prompt: str) -> str:
        self._prepare(item, objects=self.objects)
        return self.predictor.ask(prompt, max_new_tokens=self.max_new_tokens).text

    def option_scores(self, item: Item, prompt: str) -> list[float]:
        """Log-likelihood of each candidate as the answer (the second way multiple choice is scored)."""
        self._prepare(item, objects=self.objects)
        return self.predictor.score_options(prompt, list(item.candidates))

    def refer(self, item: Item, prompt: str) -> str:
        # The prompted object's token is the only one the referring question uses: skip the pipeline.
        self._prepare(item, objects="none")
        box = [float(v) for v in item.extra["box"]]
        answer = self.predictor.refer(box, question=prompt, max_new_tokens=self.max_new_tokens).text
        self._key = None  # refer() appended the box's masks to the predictor's state: prepare afresh next time
        return answer

    def close(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    # ------------------------------------------------------------------ video + masks
    def _prepare(self, item: Item, *, objects: str) -> None:
        clip = (item.extra.get("start"), item.extra.get("end"), tuple(item.extra.get("frames") or ()))
        key = (item.video, clip, objects)
        if key == self._key:
            return
        path = self._video_file(item)
        masks = None
        if objects == "shuffled":
            self._prepare_shuffled(item, path)
            self._key = key
            return
        if objects == "pipeline":
            masks = self._pipeline_masks(path)
        elif objects == "oracle":
            masks = oracle_masks(item, self.config, endpoint_url=self.endpoint_url)
        self.predictor.set_video(str(path), masks=masks)
        self.object_counts.append(0 if masks is None else masks.num_objects)
        self.objects_dropped.append(getattr(self.predictor, "objects_dropped", 0))
        self._key = key

    def _prepare_shuffled(self, item: Item, path: Path) -> None:
        import copy

        donor_uri = self.donors.get(item.video)
        if donor_uri is None:
            raise ValueError(f"{item.id}: no donor video for the shuffled-objects control (set OrionAnswerer.donors)")
        donor_path = fetch(donor_uri, endpoint_url=self.endpoint_url)
        if self._donor_predictor is None:
            self._donor_predictor = copy.copy(self.predictor)  # same model and tokenizer, its own video state
        donor_masks = self._pipeline_masks(donor_path)
        self._donor_predictor.set_video(str(donor_path), masks=donor_masks)
        self.predictor.set_video(str(path), masks=None)
        self.predictor.adopt_objects(self._donor_predictor)
        self.object_counts.append(donor_masks.num_objects)
        self.objects_dropped.append(getattr(self._donor_predictor, "objects_dropped", 0))

    def _video_file(self, item: Item) -> Path:
        bounded = item.extra.get("start") is not None and item.extra.get("end") is not None
        if not item.extra.get("frame_folder") and not bounded:
            return fetch(item.video, endpoint_url=self.endpoint_url)
        frames, fps = self._clip_frames(item)
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="orion-eval-clips-"))
        from orion_core.data.synthetic.writer import write_mp4

        h, w = (frames.shape[1] // 2) * 2, (frames.shape[2] // 2) * 2  # yuv420p needs even sides
        path = self._tmp / f"clip_{abs(hash((item.video, item.extra.get('start'), item.extra.get('end'))))}.mp4"
        write_mp4(path, np.ascontiguousarray(frames[:, :h, :w]), fps=fps, crf=18)
        return path

    def _clip_frames(self, item: Item) -> tuple[np.ndarray, float]:
        """(T, H, W, 3) frames of a bounded clip or frame folder (at most CLIP_FRAMES, uniform), and their fps."""
        from orion_core.video.sampling import uniform_indices

        start, end = item.extra.get("start"), item.extra.get("end")
        if item.extra.get("frame_folder"):
            from orion_core.video.image import read_image

            names = list(item.extra.get("frames") or [])
            if not names:
                folder = Source(item.video, endpoint_url=self.endpoint_url)
                names = [n for n in folder.names("") if n.lower().endswith((".jpg", ".jpeg", ".png"))]
            fps = float(item.extra.get("fps", 1.0))
            if start is not None and end is not None:
                names = names[max(0, int(start * fps)): max(int(start * fps) + 1, int(end * fps) + 1)]
            if not names:
                from orion_core.video.errors import MissingFileError

                raise MissingFileError(item.video, "no frame images in the folder / clip bounds")
            keep = names if len(names) <= CLIP_FRAMES else [names[i] for i in uniform_indices(len(names), CLIP_FRAMES)]
            paths = fetch_frames(item.video, keep, endpoint_url=self.endpoint_url)
            return np.stack([read_image(str(p)) for p in paths]), fps * len(keep) / len(names)
        from orion_core.video.decode import read_frames
        from orion_core.video.probe import check_video

        path = fetch(item.video, endpoint_url=self.endpoint_url)
        info = check_video(str(path), decode=False)
        fps = float(info.fps or 1.0)
        first = min(max(0, int(start * fps)), info.frames - 1)
        last = max(first, min(info.frames - 1, int(end * fps)))
        span = last - first + 1
        count = min(span, CLIP_FRAMES)
        indices = [first + i for i in (range(span) if span <= CLIP_FRAMES else uniform_indices(span, CLIP_FRAMES))]
        return read_frames(str(path), indices, info=info), fps * count / span

    def _pipeline_masks(self, path: Path):
        from orion_core.contracts.masklist import MaskList
        from orion_core.pipeline import DetectSegmentTrack
        from orion_core.contracts.digests import file_sha256
        from orion_core.pipeline.addresses import masks_key, masks_path, tags_key

        if self._pipeline is None:
            self._pipeline = DetectSegmentTrack(self.config, device=self.device)
        n = self.config.video.n_instruct
        digest = file_sha256(path)
        cached = None
        if self.config.eval.masks_cache:
            root = Path(self.config.eval.masks_cache)
            root = root if root.is_absolute() else PROJECT_ROOT / root
            cached = masks_path(root, masks_key(self.config, tags_key(self.config, n)), digest)
            if cached.is_file():
                return MaskList.load(cached)
        _, masks = self._pipeline.run(str(path), n_frames=n, video_digest=digest)
        if cached is not None:
            masks.save(cached)
        return masks


def oracle_masks(item: Item, config: OrionConfig, *, endpoint_url: str | None = None):
    """Ground-truth masks of a synthetic benchmark video as a MaskList over its t_o tracking frames.

    The same mask list the world's ground truth gives training (:func:`orion_core.data.synthetic.truth_masks.
    world_masklist`): labels are nouns, key frames are the first tracked frame with a mask, capped at
    ``pipeline.max_objects``; the annotation is fetched beside the video (local folder or S3).
    """
    import json

    from orion_core.data.synthetic.truth_masks import world_masklist

    video_id = item.extra.get("video_id")
    if item.benchmark != "synthetic" or not video_id:
        raise ValueError(f"{item.benchmark}/{item.id}: oracle masks exist only for the synthetic world's videos")
    world = item.video.rsplit("/", 3)[0]  # <world>/videos/benchmark/<id>.mp4
    ann = json.loads(fetch(f"{world}/annotations/{video_id}.json", endpoint_url=endpoint_url).read_text())
    return world_masklist(ann, config, video_path=item.video)
