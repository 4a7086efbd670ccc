#!/usr/bin/env bash
# Production MLflow tracking server: Postgres backend store, S3 artifact store (weights referenced, not re-uploaded).
set -euo pipefail
: "${MLFLOW_DB_URI:?postgresql://user:pass@host/mlflow}" "${MLFLOW_ARTIFACTS:?s3://bucket/mlflow}"
exec mlflow server --backend-store-uri "$MLFLOW_DB_URI" --artifacts-destination "$MLFLOW_ARTIFACTS" \
  --host 0.0.0.0 --port "${MLFLOW_PORT:-5000}" --workers "${MLFLOW_WORKERS:-4}"
