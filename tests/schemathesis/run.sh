#!/usr/bin/env bash
# schemathesis against a live gleh (docs/reliability.md "OpenAPI and schemathesis"): a
# development server on SQLite with a fresh DATA_DIR on a free port, an admin account made
# with `gleh user create --admin`, and `st run` over GET /openapi.json, signed in as that
# admin with the session cookie and the CSRF header supplied by tests/schemathesis/hooks.py.
#
#   tests/schemathesis/run.sh [extra st run options]
#
# GLEH_BIN (default: $CARGO_TARGET_DIR or target, then debug/gleh; built when missing),
# GLEH_SCHEMATHESIS_VENV (default /opt/schemathesis: created with `pip install schemathesis`
# when missing), GLEH_ST_MAX_EXAMPLES (default 50 cases per operation and phase).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

venv=${GLEH_SCHEMATHESIS_VENV:-/opt/schemathesis}
if ! [ -x "$venv/bin/st" ]; then
  # Debian's python3 has no ensurepip (so no working venv) without python3-venv.
  if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv
  fi
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q schemathesis
fi

bin=${GLEH_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/gleh}
if ! [ -x "$bin" ]; then
  cargo build --locked
fi

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "${GLEH_ST_SERVER_LOG:-}" ]; then cp "$work/server.log" "$GLEH_ST_SERVER_LOG"; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
mkdir -p "$work/content/courses" "$work/data"
export GLEH_ENV=development
export DATABASE_URL="${GLEH_ST_DATABASE_URL:-sqlite://$work/gleh.db}"
export DATA_DIR="$work/data"
export CONTENT_DIR="$work/content"
export LOG_DIR="$work/logs"
export BIND="127.0.0.1:$port"
export PUBLIC_URL="$base"
export LOG_FORMAT=json
export SESSION_COOKIE_NAME=session SESSION_COOKIE_SECURE=false
# The per-IP login and registration limit, high for the run: the hook logs in again after a
# fuzzed logout, and the stateful phase registers and logs in many times.
export AUTH_RATE_LIMIT=100000
SECRET_KEY=$("$bin" gen-secret)
export SECRET_KEY

user=st-admin
password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
"$bin" migrate >/dev/null
printf '%s\n' "$password" | "$bin" user create "$user" --admin >/dev/null

"$bin" serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "$base/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$base/health" >/dev/null

report="${GLEH_ST_REPORT_DIR:-$work/report}"
status=0
# From $work, so that schemathesis's example database (.schemathesis/) goes with it.
(cd "$work" && GLEH_ST_BASE="$base" GLEH_ST_USER="$user" GLEH_ST_PASSWORD="$password" \
  GLEH_ST_COOKIE=session PYTHONPATH="$root/tests/schemathesis" SCHEMATHESIS_HOOKS=hooks \
  "$venv/bin/st" run "$base/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,unsupported_method \
  --max-response-time 5 \
  --max-examples "${GLEH_ST_MAX_EXAMPLES:-50}" \
  --seed "${GLEH_ST_SEED:-1}" \
  --no-color \
  --report junit --report-dir "$report" \
  "$@") || status=$?

errors=$(grep -c '"level":"ERROR"' "$work/server.log" || true)
echo "schemathesis: exit $status; the server logged $errors ERROR line(s)"
if [ "$status" != 0 ] || [ "$errors" != 0 ]; then
  grep '"level":"ERROR"' "$work/server.log" | tail -n 40 >&2 || true
  [ "$status" != 0 ] || status=1
fi
exit "$status"
