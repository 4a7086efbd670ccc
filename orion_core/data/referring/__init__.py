"""Referring data in its published layouts -> Orion's referring records (the paper's Ref-FT data).

The paper fine-tunes on VideoRef45K's subsets VID-Sentence, HC-STVG and LaSOT (3 epochs). Each loader reads one
layout and returns a :class:`LoadReport`: the records (the dict the synthetic world's ``benchmark_ref.json`` items
are, see :mod:`.records`), every skipped entry with its reason (``missing_box``, ``empty_caption``,
``box_outside_frame``, ``missing_video``, ``missing_frame``, ``bad_entry``) and the repairs made (a box clipped to
the frame). ``load_referring(root, layout)`` dispatches through :data:`LAYOUTS`.

    {"id", "video": <relative mp4 or frame folder>, "frame": <0-based>, "box": [x0, y0, x1, y1] (x1/y1 exclusive),
     "caption", "dataset", + "start"/"end" (annotated span, end exclusive), "size": [w, h], "subset", "source_id"}

Layouts, and where each was checked
-----------------------------------
``videoref45k`` (:mod:`.videoref45k`)
    Verified against Artemis's own readers (github.com/qiujihao19/Artemis: ``LazyReferringSupervisedDataset`` in
    ``artemis/train/train.py`` and ``artemis/eval/run_inference_artemis_bench.py``): JSON lists whose entries have
    ``caption``, optional ``question``, ``frame_path`` (folder under the data root), ``frame_id`` (file names),
    ``track_list`` (one box or ``[]`` per frame_id), ``key_frame_id`` / ``key_frame_box`` (may be empty),
    ``clip_path``; evaluation lists add ``video_name``. Boxes are ``[x0, y0, x1, y1]`` pixels: Artemis divides
    them by ``[w, h, w, h]`` and feeds mmcv's RoIAlign, which takes corner boxes. Assumed: the file names of the
    released lists (no sample of the data itself could be read; it is on Baidu Disk / Hugging Face).
``vid_sentence`` (:mod:`.vid_sentence`)
    Verified against WSSTG's parser (github.com/zfchenUnique/WSSTG ``fun/vidDatasetParser.py``): the
    ``Data/VID/annSamples/<split>_valid_list.txt`` ("video,tube id"), ``<split>_ann_list[_v2].txt`` ("tube
    index,sentence"), ``Annotations/VID/tubeGt/<split>/<video>.js`` (``annotations[].id``, ``track[].frame`` from
    1, ``track[].bbox``, ``track[].frame_size`` = [h, w]) and ``Data/VID/<split>/<video>/%06d.JPEG`` (frame - 1).
    Boxes are ImageNet VID corners with the last pixel inclusive (a third-party VID-Sentence reader converts them
    with ``w = x1 - x0 + 1``), hence x1 + 1 here. Assumed: whether ``<video>`` carries ImageNet VID's
    ``ILSVRC2015_VID_train_000N/`` prefix (either works: it is a relative path).
``hcstvg`` (:mod:`.hcstvg`)
    Verified against the dataset's own repository (github.com/tzhhhh123/HC-STVG: README and ``test.json``) and
    TubeDETR's preprocessing (github.com/antoyang/TubeDETR ``preproc/preproc_hcstvg[v2].py``): a JSON object keyed
    by video file name with ``bbox`` ([x, y, w, h] per frame from ``st_frame``, counted from 1), ``st_frame``,
    ``img_num``, ``st_time``/``ed_time``, and ``caption`` + ``width``/``height`` (v1) or ``English`` + ``img_size``
    = [h, w] (v2). Assumed: that ``st_frame`` - 1 is the frame's 0-based index when decoding the mp4 (the README
    says frames were extracted with ffmpeg at the video's rate, img_num = fps x 20); videos are found by file name
    anywhere under the root (v1 part folders, v2 flat), the one part no source pins down.
``lasot`` (:mod:`.lasot`)
    Verified against pytracking's LaSOT reader (github.com/visionml/pytracking ``ltr/dataset/lasot.py``):
    ``<class>/<class>-<n>/img/%08d.jpg`` (frame i is file i + 1), ``groundtruth.txt`` with one ``x,y,w,h`` line per
    frame, ``full_occlusion.txt`` / ``out_of_view.txt`` as one comma-separated line of 0/1. ``nlp.txt`` (one
    sentence) only from a third-party tracker that reads it as the sequence's text prompt. Assumed: boxes are
    0-based pixels (taken as they are, like pytracking does).

Below the pipeline and the model: this package imports only ``orion_core.video`` (the frame-order rule
``frame_files``, probing).
"""

from __future__ import annotations

from .hcstvg import load_hcstvg
from .lasot import load_lasot
from .records import (DATASETS, REASONS, REQUIRED_FIELDS, EntryError, LoadReport, ReferringDataError, Skipped,
                      box_from_xywh, box_from_xyxy, check_record, fit_box, frame_files)
from .registry import LAYOUTS, Layout, load_referring, register_layout
from .vid_sentence import load_vid_sentence
from .videoref45k import load_videoref45k

__all__ = [
    "DATASETS", "LAYOUTS", "REASONS", "REQUIRED_FIELDS", "EntryError", "Layout", "LoadReport", "ReferringDataError",
    "Skipped", "box_from_xywh", "box_from_xyxy", "check_record", "fit_box", "frame_files", "load_hcstvg",
    "load_lasot", "load_referring", "load_vid_sentence", "load_videoref45k", "register_layout",
]
