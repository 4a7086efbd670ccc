#!/usr/bin/env bash
# Production MLflow tracking server: Postgres backend store, S3 artifact store (weights referenced, not re-uploaded),
# with MLflow's basic-auth app (users and permissions in their own database), on loopback unless told otherwise.
#
#   MLFLOW_DB_URI            backend store, e.g. postgresql://user:pass@host/mlflow (required)
#   MLFLOW_ARTIFACTS         artifact destination, e.g. s3://bucket/mlflow (required)
#   MLFLOW_AUTH_DB_URI       users/permissions store, e.g. postgresql://user:pass@host/mlflow_auth (required)
#   MLFLOW_AUTH_ADMIN_PASSWORD  password of the admin user created on first start (required on first start)
#   MLFLOW_FLASK_SERVER_SECRET_KEY  a random secret, the same for every replica (the auth app's CSRF protection)
#   MLFLOW_HOST              interface to bind (default 127.0.0.1; set 0.0.0.0 only behind a proxy/ingress
#                            that terminates TLS: basic auth sends the password with every request)
#   MLFLOW_AUTH_CONFIG_DIR   where the generated auth config is written (default ~/.config/mlflow, owner-only)
#   MLFLOW_PORT, MLFLOW_WORKERS, MLFLOW_DEFAULT_PERMISSION (READ | EDIT | MANAGE | NO_PERMISSIONS; default READ)
#
# Clients (Orion's jobs and `orion lineage`) authenticate with MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD.
set -euo pipefail
: "${MLFLOW_DB_URI:?postgresql://user:pass@host/mlflow}" "${MLFLOW_ARTIFACTS:?s3://bucket/mlflow}"
: "${MLFLOW_AUTH_DB_URI:?postgresql://user:pass@host/mlflow_auth (users and permissions)}"
: "${MLFLOW_FLASK_SERVER_SECRET_KEY:?a random secret shared by every replica (CSRF protection)}"
# The auth config names the auth database (credentials included): written owner-only, rewritten at each start.
auth_dir="${MLFLOW_AUTH_CONFIG_DIR:-$HOME/.config/mlflow}"
mkdir -p "$auth_dir" && chmod 700 "$auth_dir"
auth_config="$auth_dir/basic_auth.ini"
(umask 077 && cat > "$auth_config") <<EOF
[mlflow]
default_permission = ${MLFLOW_DEFAULT_PERMISSION:-READ}
database_uri = ${MLFLOW_AUTH_DB_URI}
admin_username = ${MLFLOW_AUTH_ADMIN_USERNAME:-admin}
authorization_function = mlflow.server.auth:authenticate_request_basic_auth
grant_default_workspace_access = false
EOF
export MLFLOW_AUTH_CONFIG_PATH="$auth_config"
exec mlflow server --app-name basic-auth --backend-store-uri "$MLFLOW_DB_URI" --artifacts-destination "$MLFLOW_ARTIFACTS" \
  --host "${MLFLOW_HOST:-127.0.0.1}" --port "${MLFLOW_PORT:-5000}" --workers "${MLFLOW_WORKERS:-4}"
