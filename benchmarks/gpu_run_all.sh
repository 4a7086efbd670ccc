#!/usr/bin/env bash
# All GPU benchmarks in ONE command for a lent CUDA machine (no network there; run from the repo root or anywhere).
#
#   bash benchmarks/gpu_run_all.sh            # writes to $OUT (default /tmp/out), prints one summary line per script
#
# 1. installs the wheels the machine lacks from .whl/ (deepspeed, segment-anything, pycocotools, nltk, pydantic, ...)
#    into /tmp/site, WordNet from .whl/nltk_data (a zip NLTK reads in place);
# 2. runs, each under its own `timeout` so one that hangs cannot eat the others' time:
#      gpu_model_timing.py     VideoOrion-7B forward parts + generation (random weights, bf16)      100 s
#      gpu_pipeline_timing.py  detect-segment-track per video, full-size experts (random weights)  150 s
#                              (it stops timing videos 45 s before its limit and reports what it has)
#      gpu_tracker_timing.py   tracking per video, 16 and 64 objects x 64 frames: SAM2 one-at-a-time,
#                              SAM2 batched, XMem, SAM 3 (random weights, bf16 autocast), vs the model   200 s
#      gpu_zero3_step.py       one ZeRO-3 bf16 training step at 7B shape                           180 s
#    about 650 s in all at the limits: give the device run a timeout of 600 s and set T_ZERO3=0 to skip the
#    ZeRO-3 step (measured before, benchmarks/results/gpu_h200.md), or run the trackers alone:
#      ONLY=trackers bash benchmarks/gpu_run_all.sh        (model + trackers, about 300 s)
# Files in $OUT (9, no sub-folders): summary.txt, {model,pipeline,trackers,zero3}.json and .log.
# Budgets are overridable: T_MODEL, T_PIPELINE, T_TRACKERS, T_ZERO3 (seconds; 0 skips that script). Smoke test on a CPU machine (same flow, toy
# sizes): TINY=1 PYTHON=.venv/bin/python SITE=/tmp/site-test OUT=/tmp/out-test bash benchmarks/gpu_run_all.sh
set -u
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/out}"
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
export NLTK_DATA="$PWD/.whl/nltk_data"
SITE="${SITE:-/tmp/site}"
PY="${PYTHON:-python3}"
if [ "${TINY:-0}" = 1 ]; then
  MODEL_ARGS=(--device cpu --preset tiny-cpu); TINY_ARG=(--tiny)
else
  MODEL_ARGS=(); TINY_ARG=()
fi
SUMMARY="$OUT/summary.txt"
: > "$SUMMARY"
say() { echo "$*" | tee -a "$SUMMARY"; }

say "host: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)"
if ! "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" \
    .whl/*.whl >> "$SUMMARY" 2>&1; then
  say "bulk wheel install failed; installing one by one"
  for w in .whl/*.whl; do
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" "$w" \
      >> "$SUMMARY" 2>&1 || say "  FAILED: $w"
  done
fi
export PYTHONPATH="$SITE:$PWD"
say "env: $("$PY" -c 'import sys, torch, transformers; print("python", sys.version.split()[0], "torch", torch.__version__, "transformers", transformers.__version__)' 2>&1 | tail -1)"

run() {  # name, seconds, script and arguments
  local name=$1 limit=$2
  shift 2
  if [ "$limit" = 0 ]; then say "== $name: skipped (limit 0)"; return; fi
  local start=$SECONDS
  timeout -k 15 "$limit" "$PY" "$@" --out "$OUT/$name.json" > "$OUT/$name.log" 2>&1
  local rc=$?
  say "== $name: rc=$rc$([ $rc -eq 124 ] && echo ' (TIMEOUT)') in $((SECONDS - start)) s (limit $limit s)"
  "$PY" - "$OUT/$name.json" "$name" "$OUT/$name.log" <<'PY' 2>&1 | tee -a "$SUMMARY"
import json, sys
from pathlib import Path
path, name, log = sys.argv[1:4]
if not Path(path).is_file():
    tail = [l for l in Path(log).read_text(errors="replace").splitlines() if l.strip()][-3:]
    print(f"   no JSON; log ends: {' | '.join(tail)[-600:]}")
    sys.exit()
r = json.loads(Path(path).read_text())
med = lambda d, k: d.get(k, {}).get("median_ms") if isinstance(d.get(k), dict) else None
if name == "model":
    p = r.get("forward_parts", {})
    print(f"   {r.get('device')}: forward {med(r, 'forward_total')} ms (video {med(p, 'video_branch')}, object frames "
          f"{med(p, 'object_frames_encoding')}, pooling+proj {med(p, 'object_pooling_and_projector')}, llm "
          f"{med(p, 'llm_forward')}), generation of {r.get('sample', {}).get('new_tokens')} tokens "
          f"{med(r, 'generation')} ms, object branch share {r.get('object_branch_share_of_forward')}, "
          f"weights {r.get('weights_gib')} GiB")
elif name == "pipeline":
    pv = {k: v["median_s"] for k, v in r.get("per_video", {}).items()}
    print(f"   {r.get('device')}: per video {pv.get('total')} s over {r.get('timed_videos')} videos: tag {pv.get('tag')}, "
          f"detect {pv.get('detect')}, segment {pv.get('segment')}, track {pv.get('track')} "
          f"(clips {r.get('clips')}); peak {r.get('peak_memory_gib')} GiB")
    c = r.get("compare", {})
    if "added_pct" in c:
        print(f"   vs model ({c['model_device']}): per sample {c['model_per_sample_s']} s (encoders "
              f"{c['model_encoders_s']} + generation of {c['model_new_tokens']} tokens {c['model_generation_s']}) "
              f"-> with pipeline {c['with_pipeline_s']} s = +{c['added_pct']} % (paper: 8.27 -> 11.46 s, +38.5 %)")
elif name == "trackers":
    pv = r.get("per_video_s", {})
    print(f"   {r.get('device')}: seconds per video ({r.get('frames')} frames, autocast {r.get('autocast')}): "
          + ", ".join(f"{k} {v}" for k, v in pv.items()))
    if "model" in r:
        m = r["model"]
        print(f"   model forward {m['forward_ms']} ms, with cached object-frame features "
              f"{m['forward_with_cached_object_features_ms']} ms; tracker / forward: {r.get('tracker_vs_model_forward')}")
elif name == "zero3":
    m, mem = r.get("median", {}), r.get("memory", {})
    print(f"   {r.get('device')}: forward {m.get('forward_s')} s, backward {m.get('backward_s')} s, step "
          f"{m.get('step_s')} s, total {m.get('total_s')} s, {r.get('tokens_per_s')} tokens/s, peak "
          f"{mem.get('peak_allocated_gib_overall')} GiB of {mem.get('device_total_gib')}, grad ckpt "
          f"{r.get('grad_checkpointing', {}).get('used_in_timed_steps')}, offload {r.get('offload_optimizer')}, "
          f"config {r.get('ds_config')}")
errors = r.get("errors") or {}
for k, v in errors.items():
    print(f"   ERROR {k}: {v.strip().splitlines()[-1][:300]}")
PY
}

if [ "${TINY:-0}" = 1 ]; then
  TRACKER_ARGS=(--tiny --device cpu --autocast bf16 --frames 4 --objects 2 4 --reps 1 --size 128x96)
else
  TRACKER_ARGS=()
fi
if [ "${ONLY:-}" = trackers ]; then T_PIPELINE=0; T_ZERO3=0; fi
run model "${T_MODEL:-100}" benchmarks/gpu_model_timing.py --reps 3 --warmup 1 ${MODEL_ARGS[@]+"${MODEL_ARGS[@]}"}
run pipeline "${T_PIPELINE:-150}" benchmarks/gpu_pipeline_timing.py --reps 3 --budget-s $(( ${T_PIPELINE:-150} - 45 )) \
  --model-json "$OUT/model.json" ${TINY_ARG[@]+"${TINY_ARG[@]}"}
run trackers "${T_TRACKERS:-200}" benchmarks/gpu_tracker_timing.py --budget-s $(( ${T_TRACKERS:-200} - 30 )) \
  --model-json "$OUT/model.json" ${TRACKER_ARGS[@]+"${TRACKER_ARGS[@]}"}
run zero3 "${T_ZERO3:-180}" benchmarks/gpu_zero3_step.py --steps 2 ${TINY_ARG[@]+"${TINY_ARG[@]}"}
say "files: $(ls "$OUT" | tr '\n' ' ')"
