#!/usr/bin/env bash
# Rolling restart under load (issue 13 point 3; docs/deploy.md "Rolling restarts"):
# `bash bench/rolling.sh [SECONDS]` (default 30) starts three release `gleh serve` instances
# on one database (PostgreSQL when 127.0.0.1:5432 answers, else one SQLite file; ROLLING_DB=
# sqlite forces it) behind nginx running deploy/nginx/gleh.conf (loopback ports, a self-signed
# certificate, the three upstreams — nothing else changed), and runs wrk through nginx over
# https: 64 connections of GET /api/content, GET /api/check_session and POST /api/profile
# with 8 users' sessions and CSRF tokens. Meanwhile each instance in turn gets SIGTERM and a
# new one starts on its port as soon as the old one stops listening (the old one drains
# beside it). Pass: 0 socket errors and 0 answers other than 2xx. Prints a markdown table
# (docs/deploy.md "Rolling restarts"); exit 1 when a criterion fails.
# Environment: ROLLING_DB=sqlite|postgres, ROLLING_SKIP_BUILD=1, CARGO_TARGET_DIR.
set -Eeuo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DUR=${1:-30}
GLEH="${CARGO_TARGET_DIR:-$ROOT/target}/release/gleh"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
PASS=rolling-password-123
WORK=$(mktemp -d /tmp/gleh-rolling.XXXXXX)
PGDB=gleh_rolling
PG_CREATED=0
NGINX_PID=
declare -A PID
log() { printf '[rolling %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
cleanup() {
    local p
    for p in "${PID[@]}" $NGINX_PID; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if ((PG_CREATED)); then
        psql -X -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

command -v wrk >/dev/null || { log "installing wrk"; apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
[[ -x "$NGINX" ]] || { log "installing nginx"; apt-get update -qq && apt-get install -y -qq nginx >/dev/null; NGINX=$(command -v nginx); }
if [[ "${ROLLING_SKIP_BUILD:-0}" != 1 ]]; then cargo build --release --locked --bin gleh >&2; fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

db=${ROLLING_DB:-}
if [[ -z "$db" ]]; then
    if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then db=postgres; else db=sqlite; fi
fi
if [[ "$db" == postgres ]]; then
    psql -X -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" -c "CREATE DATABASE $PGDB" >/dev/null
    PG_CREATED=1
    URL="postgres://postgres@127.0.0.1:5432/$PGDB"
else
    URL="sqlite://$WORK/rolling.db"
fi
mkdir -p "$WORK/content/courses"
PORTS=("$(free_port)" "$(free_port)" "$(free_port)")
genv() { # genv INDEX: the environment of instance INDEX
    echo env -i PATH="$PATH" HOME="$HOME" GLEH_ENV=production SECRET_KEY=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef \
        SESSION_COOKIE_SECURE=true PUBLIC_URL=https://127.0.0.1 BIND="127.0.0.1:${PORTS[$1]}" DATABASE_URL="$URL" \
        CONTENT_DIR="$WORK/content" DATA_DIR="$WORK/data$1" LOG_DIR="$WORK/logs$1" LOG_LEVEL=warn AUTH_RATE_LIMIT=1000
}
$(genv 0) "$GLEH" migrate >/dev/null
for i in $(seq 1 8); do echo "$PASS" | $(genv 0) "$GLEH" user create "roll$i" >/dev/null; done
start() { # start INDEX GENERATION
    $(genv "$1") "$GLEH" serve >>"$WORK/server$1.log" 2>&1 &
    PID[$1]=$!
    local t
    for t in $(seq 1 100); do curl -fs -o /dev/null "http://127.0.0.1:${PORTS[$1]}/health" && return 0; sleep 0.05; done
    log "instance $1 did not start: $(tail -3 "$WORK/server$1.log")"
    return 1
}
for i in 0 1 2; do start "$i"; done

# nginx: the shipped file, mechanically adapted as tests/api/nginx.rs does.
HTTPS=$(free_port) HTTP=$(free_port)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
upstreams="server 127.0.0.1:${PORTS[0]}\\1;\n    server 127.0.0.1:${PORTS[1]}\\1;\n    server 127.0.0.1:${PORTS[2]}\\1;"
sed -e "s|listen 443 ssl http2;|listen 127.0.0.1:$HTTPS ssl http2;|" -e "s|listen 80;|listen 127.0.0.1:$HTTP;|" \
    -e '/listen \[::\]/d' -e "s|server 127.0.0.1:8000\( [^;]*\);|$upstreams|" \
    -e "s|/etc/letsencrypt/live/platform.edu/fullchain.pem|$WORK/cert.pem|" \
    -e "s|/etc/letsencrypt/live/platform.edu/privkey.pem|$WORK/key.pem|" deploy/nginx/gleh.conf >"$WORK/site.conf"
cat >"$WORK/nginx.conf" <<NGX
daemon off; master_process off; pid $WORK/nginx.pid; error_log $WORK/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
    uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
    include $WORK/site.conf;
}
NGX
mkdir -p "$WORK/tmp"
"$NGINX" -p "$WORK" -c "$WORK/nginx.conf" -t -q
"$NGINX" -p "$WORK" -c "$WORK/nginx.conf" &
NGINX_PID=$!
BASE="https://127.0.0.1:$HTTPS"
for t in $(seq 1 100); do curl -ksf -o /dev/null "$BASE/health" && break; sleep 0.05; done

users_lua=""
for i in $(seq 1 8); do
    cookie=$(curl -ksfS -D - -o /dev/null -H 'Content-Type: application/json' \
        --data "{\"username\":\"roll$i\",\"password\":\"$PASS\"}" "$BASE/api/login" |
        tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | head -1)
    token=$(curl -ksfS -H "Cookie: $cookie" "$BASE/csrf-token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf_token"])')
    users_lua+="{c=\"$cookie\", t=\"$token\"},"
done
cat >"$WORK/mix.lua" <<LUA
local users = {$users_lua}
request = function()
  n = n + 1
  local u = users[n % #users + 1]
  local k = n % 3
  if k == 0 then return wrk.format("GET", "/api/content", {["Cookie"] = u.c}) end
  if k == 1 then return wrk.format("GET", "/api/check_session", {["Cookie"] = u.c}) end
  return wrk.format("POST", "/api/profile", {["Cookie"] = u.c, ["X-CSRFToken"] = u.t,
    ["Content-Type"] = "application/json"}, '{"about_me":"rolling, request ' .. n .. '"}')
end
dofile("$ROOT/bench/wrk_tally.lua")
LUA

log "$db: wrk -t2 -c64 -d${DUR}s through nginx; each of 3 instances restarted in turn"
wrk -t2 -c64 -d"${DUR}s" --timeout 10s --latency -s "$WORK/mix.lua" "$BASE" >"$WORK/wrk.txt" 2>&1 &
WRK=$!
sleep 3
restarts=""
gap=$(( (DUR - 6) / 3 ))
for i in 0 1 2; do
    old=${PID[$i]}
    t0=$(date +%s%N)
    kill -TERM "$old"
    # The old instance refuses new connections at once; its replacement binds the port.
    for t in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:${PORTS[$i]}/health" || break; sleep 0.01; done
    start "$i"
    t1=$(date +%s%N)
    code=0; wait "$old" || code=$?
    t2=$(date +%s%N)
    restarts+="instance $i: replacement serving after $(( (t1 - t0) / 1000000 )) ms, old exited ($code) after $(( (t2 - t0) / 1000000 )) ms; "
    log "instance $i replaced"
    sleep "$(( gap > 1 ? gap - 1 : 1 ))"
done
wait "$WRK"
python3 - "$db" "$WORK/wrk.txt" "$DUR" "$restarts" <<'PY' | tee "$WORK/table.md"
import re, sys
db, path, dur, restarts = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
text = open(path).read()
codes = {int(a): int(b) for a, b in re.findall(r"^STATUS (\d+) (\d+)$", text, re.M)}
m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
errors = sum(map(int, m.groups())) if m else 0
total = sum(codes.values())
bad = sum(v for k, v in codes.items() if not 200 <= k < 300)
p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M)
ok = errors == 0 and bad == 0 and total > 0
print("| database | requests in %d s | statuses | socket errors | non-2xx | p99 | restarts | result |" % dur)
print("|---|---|---|---|---|---|---|---|")
print(f"| {db} | {total:,} | {', '.join(f'{k}: {v:,}' for k, v in sorted(codes.items()))} | {errors} | {bad} | "
      f"{p99.group(1) if p99 else '?'} | {restarts.strip()} | {'PASS' if ok else 'FAIL'} |")
open(path + ".pass", "w").write("1" if ok else "0")
PY
[[ $(cat "$WORK/wrk.txt.pass") == 1 ]] || { log "FAIL; nginx errors: $(grep -c error "$WORK/error.log" || true)"; grep -m5 error "$WORK/error.log" >&2 || true; exit 1; }
