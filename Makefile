# Orion's two commands (README): `make run` and `make test`. Both set up whatever is missing first.
SHELL := /bin/bash
export DAGSTER_HOME := $(CURDIR)/dagster_home
export NLTK_DATA := $(CURDIR)/.orion/nltk_data
export PYTHONUNBUFFERED := 1
# DeepSpeed JIT-builds a small op on first use (1-3 min on 2 cores); keep the build with this checkout's venv so two
# checkouts on one machine do not rebuild it for each other.
export TORCH_EXTENSIONS_DIR := $(CURDIR)/.orion/torch_extensions

.PHONY: setup run table4 experiment tables test test-fast ui mlflow-ui

setup:
	@scripts/setup.sh

## run: set up, then materialize the whole asset graph on the embedded default (tiny-cpu)
run: setup
	.venv/bin/python -m orion_assets.main

## table4: the paper's Table 4 with controls (video-only / VideoOrion / equal frames / shuffled objects x seeds) on
## the graph `make run` materialized; the table, intervals and chart land on the table4_summary asset and in MLflow
table4: run
	.venv/bin/python -m orion_assets.main --experiment table4

## experiment NAME=<table>: one of the paper's tables (table4, table5, table6, table10, table11, projectors): its
## experiment_run partitions, then <table>_summary (table, intervals, directions against the paper, chart, MLflow)
experiment: run
	@test -n "$(NAME)" || { echo "usage: make experiment NAME=table5 (table4 table5 table6 table10 table11 projectors)"; exit 2; }
	.venv/bin/python -m orion_assets.main --experiment $(NAME)

## tables: every table (shared runs once), then benchmarks/results/paper_tables.md from their summaries
tables: run
	.venv/bin/python -m orion_assets.main --experiment all
	.venv/bin/python benchmarks/paper_tables.py

## test: set up, then run the whole test suite (what CI runs)
test: setup
	.venv/bin/python -m pytest -q

## test-fast: skip tests marked slow or services
test-fast: setup
	.venv/bin/python -m pytest -q -m "not slow and not services"

## ui: the Dagster UI (webserver + daemon) on this data, http://127.0.0.1:3000
ui: setup
	.venv/bin/dagster dev -m orion_assets.definitions -h 127.0.0.1 -p 3000

## mlflow-ui: the MLflow UI over the embedded store (runs, datasets, registered checkpoints), http://127.0.0.1:5000
mlflow-ui: setup
	.venv/bin/mlflow ui --backend-store-uri "$$(.venv/bin/python -c 'from orion_assets.resources.mlflow import MlflowResource; print(MlflowResource.from_env().uri())')" -h 127.0.0.1 -p 5000
