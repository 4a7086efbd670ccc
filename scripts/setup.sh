#!/usr/bin/env bash
# Idempotent set-up of everything Orion needs on a fresh Debian machine (x86_64, Python 3.11).
# Re-running it is fast: each step checks before it installs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-python3}
say() { echo "[setup] $*"; }

# 1. System packages: WordNet data (offline NLTK), Java (METEOR), Chromium (browser tests), ffmpeg tools.
need_apt=()
[ -f /usr/share/wordnet/data.noun ] || need_apt+=(wordnet-base wordnet-sense-index)
command -v chromium >/dev/null || need_apt+=(chromium)
command -v java >/dev/null || need_apt+=(default-jre-headless)
if [ ${#need_apt[@]} -gt 0 ]; then
  say "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# 2. The main venv: torch/torchvision first (local wheels; pinned so nothing upgrades them), then the pinned set.
stamp=.venv/.orion-req-$(sha256sum requirements.txt | cut -c1-16)
if [ ! -f "$stamp" ]; then
  [ -x .venv/bin/python ] || { say "creating .venv"; $PY -m venv .venv; }
  .venv/bin/pip install -q --upgrade pip
  say "installing torch 2.14.1 + torchvision 0.29.1"
  .venv/bin/pip install -q torch==2.14.1 torchvision==0.29.1
  say "installing requirements.txt (pinned)"
  .venv/bin/pip install -q -r requirements.txt
  .venv/bin/pip install -q --no-deps -e .
  rm -f .venv/.orion-req-*; touch "$stamp"
fi

# 3. DVC in its own tool venv: its hydra pins antlr4 4.9, which breaks Dagster's string selections.
if [ ! -x .venv-dvc/bin/dvc ]; then
  say "creating .venv-dvc (dvc 3.67.1 + dvc-s3)"
  $PY -m venv .venv-dvc
  .venv-dvc/bin/pip install -q --upgrade pip
  .venv-dvc/bin/pip install -q dvc==3.67.1 dvc-s3==3.3.0
fi

# 4. Offline NLTK WordNet built from Debian's copy.
scripts/nltk_wordnet.sh "$ROOT/.orion/nltk_data"
mkdir -p "$ROOT/.orion/dvc-remote"
say "ready"
