#!/usr/bin/env bash
# Instructions per request, counted by valgrind's callgrind: repeatable where wall-clock
# req/s on a shared 2-CPU machine is not (docs/performance.md, "The house").
#
#   bash bench/callgrind.sh [BIN] [session|health|content|profile] [N]   (CALLGRIND_TOP=K: the top K functions)
#
# Starts BIN (default target/release/gleh) under callgrind on a fresh SQLite database in a
# temporary directory, logs in a benchmark user, warms up with 50 requests, zeroes the
# counters, sends N (default 500) requests over one keep-alive connection with curl, dumps
# the counters and prints the total instructions of all threads divided by N. Logging is
# as in bench/run.sh (LOG_FORMAT=json, LOG_LEVEL=warn,gleh::server=info) unless LOG_LEVEL
# is set. Needs valgrind and curl. Listens on 127.0.0.1 only; everything is removed on exit.
set -Eeuo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${1:-$ROOT/target/release/gleh}
KIND=${2:-session}
N=${3:-500}
PORT=${CALLGRIND_PORT:-18490}
D=$(mktemp -d)
PID=
cleanup() {
    [[ -n "$PID" ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$D"
}
trap cleanup EXIT
export GLEH_ENV=development DATABASE_URL="sqlite://$D/gleh.db" BIND="127.0.0.1:$PORT" \
    PUBLIC_URL="http://127.0.0.1:$PORT" CONTENT_DIR="$D/content" LOG_FORMAT=json \
    LOG_LEVEL=${LOG_LEVEL:-warn,gleh::server=info} AUTH_RATE_LIMIT=1000000 \
    SECRET_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
"$BIN" migrate >/dev/null
echo 'bench-password-123' | "$BIN" user create benchuser >/dev/null
valgrind --tool=callgrind --compress-strings=no --compress-pos=no \
    --callgrind-out-file="$D/cg.out" "$BIN" serve 2>"$D/server.log" &
PID=$!
URL=http://127.0.0.1:$PORT
for _ in $(seq 300); do curl -sf "$URL/health" >/dev/null && break; sleep 0.2; done
COOKIE=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
    -d '{"username":"benchuser","password":"bench-password-123"}' "$URL/api/login" |
    grep -i '^set-cookie' | sed 's/^[Ss]et-[Cc]ookie: //; s/;.*//')
case "$KIND" in
    session) TARGET=$URL/api/check_session ;;
    health) TARGET=$URL/health ;;
    content) TARGET=$URL/api/content ;;
    profile) TARGET=$URL/api/profile ;;
    *) echo "usage: bash bench/callgrind.sh [BIN] [session|health|content|profile] [N]" >&2; exit 2 ;;
esac
if [[ "$KIND" != session && "$KIND" != health ]]; then
    # A status and a note on every course, as an active learner has: the profile lists them
    # and the signed-in catalog splices them in.
    TOKEN=$(curl -s -H "Cookie: $COOKIE" "$URL/csrf-token" | sed 's/.*"csrf_token":"\([^"]*\)".*/\1/')
    for uid in $(curl -s "$URL/api/content" | grep -o '"uid":"[^"]*"' | cut -d'"' -f4); do
        for body in "{\"course_uid\":\"$uid\",\"status\":\"In Progress\"}" \
            "{\"course_uid\":\"$uid\",\"content\":\"A note on $uid\"}"; do
            case "$body" in *status*) ep=progress ;; *) ep=note ;; esac
            curl -s -o /dev/null -H "Cookie: $COOKIE" -H "X-CSRFToken: $TOKEN" \
                -H 'Content-Type: application/json' -d "$body" "$URL/api/course/$ep"
        done
    done
fi
requests() { for _ in $(seq "$1"); do printf 'url = "%s"\noutput = /dev/null\n' "$TARGET"; done; }
requests 50 >"$D/warm.cfg"
requests "$N" >"$D/run.cfg"
# /health as a monitor asks it: without a cookie.
[[ "$KIND" == health ]] && COOKIE=none=1
curl -s -H "Cookie: $COOKIE" -K "$D/warm.cfg"
callgrind_control -z "$PID" >/dev/null 2>&1
curl -s -H "Cookie: $COOKIE" -K "$D/run.cfg"
callgrind_control -d "$PID" >/dev/null 2>&1
sleep 1
total=0
for f in "$D"/cg.out.*; do
    v=$(awk '/^(summary|totals):/ {print $2; exit}' "$f")
    total=$((total + ${v:-0}))
done
echo "$(basename "$BIN") $KIND: $((total / N)) instructions per request (N=$N)"
# CALLGRIND_OUT=DIR: keep the profiles there (for callgrind_annotate).
if [[ -n "${CALLGRIND_OUT:-}" ]]; then mkdir -p "$CALLGRIND_OUT" && cp "$D"/cg.out.* "$CALLGRIND_OUT"/; fi
# CALLGRIND_TOP=K: also the K functions with the most inclusive instructions.
if [[ -n "${CALLGRIND_TOP:-}" ]]; then
    callgrind_annotate --inclusive=${CALLGRIND_INCLUSIVE:-yes} "$D"/cg.out.* 2>/dev/null | grep -v '^-' | sed -n "1,$((CALLGRIND_TOP + 25))p" | tail -n "$CALLGRIND_TOP"
fi
