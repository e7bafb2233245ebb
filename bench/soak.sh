#!/usr/bin/env bash
# Load held (issue 12 point 5): `bash bench/soak.sh [SECONDS]` (default 60) runs, against a
# release `gleh serve` on SQLite and then on PostgreSQL (when 127.0.0.1:5432 answers),
# 256 connections of mixed traffic at once:
#   - 192 wrk connections of reads: GET /api/content, /api/check_session, /api/profile,
#     each with one of 8 users' sessions;
#   - 56 wrk connections of writes: POST /api/profile (about_me), /api/course/progress,
#     /api/course/note, with the session and its CSRF token;
#   - 8 connections of a login flood (bench/soak_logins.py), each attempt on a new
#     connection from a random source address in 127.0.0.0/8: right passwords, wrong ones,
#     unknown users — the per-IP and per-account limits answer the designed 429s.
# The server runs in development mode with LOG_DIR set (app.log and access lines written).
# Pass: 0 socket errors, no status but 2xx on reads and writes, only 200/401/429 on logins,
# reads' p99 under 50 ms, the server's peak RSS under 100 MiB. Prints a markdown table
# (docs/reliability.md "Load held"); exit 1 when a criterion fails.
# Environment: SOAK_SKIP_PG=1 (SQLite only), SOAK_SKIP_BUILD=1, CARGO_TARGET_DIR.
set -Eeuo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DUR=${1:-60}
GLEH="${CARGO_TARGET_DIR:-$ROOT/target}/release/gleh"
PASS=soak-password-123
NUSERS=8
WORK=$(mktemp -d /tmp/gleh-soak.XXXXXX)
PIDS=()
PGDB=gleh_soak
PG_CREATED=0
log() { printf '[soak %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
cleanup() {
    local p
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    if ((PG_CREATED)); then
        psql -X -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

command -v wrk >/dev/null || { log "installing wrk"; apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
if [[ "${SOAK_SKIP_BUILD:-0}" != 1 ]]; then cargo build --release --locked --bin gleh >&2; fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wrk scripts: a request generator over the users' sessions; bench/wrk_tally.lua tallies
# the statuses.
lua_common="dofile(\"$ROOT/bench/wrk_tally.lua\")"

run_one() { # run_one NAME DATABASE_URL
    local name=$1 url=$2 port base i cookie token users_lua="" names="" uids pid peak=0 rss
    port=$(free_port)
    base="http://127.0.0.1:$port"
    mkdir -p "$WORK/$name/logs"
    local env=(env -i PATH="$PATH" HOME="$HOME" GLEH_ENV=development BIND="127.0.0.1:$port"
        DATABASE_URL="$url" DATA_DIR="$WORK/$name/data" CONTENT_DIR="$ROOT/content"
        LOG_DIR="$WORK/$name/logs" LOG_LEVEL=warn
        ${DATABASE_MAX_CONNECTIONS:+DATABASE_MAX_CONNECTIONS=$DATABASE_MAX_CONNECTIONS})
    # The accounts are made with the CLI, so the registration limit stays as shipped.
    "${env[@]}" "$GLEH" migrate >/dev/null
    for i in $(seq 1 "$NUSERS"); do
        echo "$PASS" | "${env[@]}" "$GLEH" user create "soak$i" >/dev/null
        # The flood's own accounts: its logins would otherwise push the readers' sessions
        # out (a user keeps a bounded number of sessions).
        echo "$PASS" | "${env[@]}" "$GLEH" user create "flood$i" >/dev/null
        names+="flood$i,"
    done
    "${env[@]}" "$GLEH" serve >"$WORK/$name/server.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    for i in $(seq 1 200); do curl -fs -o /dev/null "$base/health" && break; sleep 0.1; done
    curl -fs -o /dev/null "$base/health" || { log "server did not start: $(tail -5 "$WORK/$name/server.log")"; return 1; }
    for i in $(seq 1 "$NUSERS"); do
        # Each from its own address: the per-IP login limit stays as shipped.
        cookie=$(curl -fsS --interface "127.0.1.$i" -D - -o /dev/null -H 'Content-Type: application/json' \
            --data "{\"username\":\"soak$i\",\"password\":\"$PASS\"}" "$base/api/login" |
            tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | head -1)
        [[ -n "$cookie" ]] || { log "login of soak$i failed"; return 1; }
        token=$(curl -fsS -H "Cookie: $cookie" "$base/csrf-token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf_token"])')
        users_lua+="{c=\"$cookie\", t=\"$token\"},"
    done
    uids=$(curl -fsS "$base/api/content" | python3 -c '
import json, sys
print(",".join("\"%s\"" % c["uid"] for c in json.load(sys.stdin)["content"] if c.get("type", "course") == "course"))')
    cat >"$WORK/reads.lua" <<LUA
local users = {$users_lua}
local paths = {"/api/content", "/api/check_session", "/api/profile"}
request = function()
  n = n + 1
  return wrk.format("GET", paths[n % #paths + 1], {["Cookie"] = users[n % #users + 1].c})
end
$lua_common
LUA
    cat >"$WORK/writes.lua" <<LUA
local users = {$users_lua}
local uids = {$uids}
local statuses = {"Not Started", "In Progress", "Completed"}
request = function()
  n = n + 1
  local u = users[n % #users + 1]
  local h = {["Cookie"] = u.c, ["X-CSRFToken"] = u.t, ["Content-Type"] = "application/json"}
  local uid = uids[n % #uids + 1]
  local k = n % 3
  if k == 0 then
    return wrk.format("POST", "/api/profile", h, '{"about_me":"soak run, request ' .. n .. '"}')
  elseif k == 1 then
    return wrk.format("POST", "/api/course/progress", h,
      '{"course_uid":"' .. uid .. '","status":"' .. statuses[n % 3 + 1] .. '"}')
  end
  return wrk.format("POST", "/api/course/note", h,
    '{"course_uid":"' .. uid .. '","content":"note ' .. n .. '"}')
end
$lua_common
LUA
    log "$name: ${DUR}s of 192 read + 56 write + 8 login-flood connections"
    wrk -t1 -c"${SOAK_READ_CONNS:-192}" -d"${DUR}s" --timeout 10s --latency -s "$WORK/reads.lua" "$base" >"$WORK/$name/reads.txt" 2>&1 &
    local rp=$!
    wrk -t1 -c"${SOAK_WRITE_CONNS:-56}" -d"${DUR}s" --timeout 10s --latency -s "$WORK/writes.lua" "$base" >"$WORK/$name/writes.txt" 2>&1 &
    local wp=$!
    python3 "$ROOT/bench/soak_logins.py" "$port" "$DUR" "${SOAK_LOGIN_CONNS:-8}" "${names%,}" "$PASS" >"$WORK/$name/logins.json" &
    local lp=$!
    while kill -0 "$rp" 2>/dev/null; do
        rss=$(awk '$1 == "VmRSS:" {print $2}' "/proc/$pid/status")
        ((rss > peak)) && peak=$rss
        sleep 1
    done
    wait "$rp" "$wp" "$lp"
    local hwm
    hwm=$(awk '$1 == "VmHWM:" {print $2}' "/proc/$pid/status")
    python3 - "$name" "$WORK/$name" "$hwm" "$DUR" <<'PY' | tee -a "$WORK/table.md"
import json, re, sys
name, d, hwm_kib, dur = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def wrk(path):
    text = open(path).read()
    codes = {int(a): int(b) for a, b in re.findall(r"^STATUS (\d+) (\d+)$", text, re.M)}
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    errors = sum(map(int, m.groups())) if m else 0
    def ms(label):
        m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        if not m:
            return float("nan")
        v, u = float(m.group(1)), m.group(2)
        return v / 1000 if u == "us" else v * 1000 if u == "s" else v
    return codes, errors, ms("50%"), ms("99%"), sum(codes.values()) / dur
rc, re_, r50, r99, rrate = wrk(f"{d}/reads.txt")
wc, we, w50, w99, wrate = wrk(f"{d}/writes.txt")
logins = json.load(open(f"{d}/logins.json"))
lstat = logins["statuses"]
ok_reads = all(200 <= c < 300 for c in rc)
ok_writes = all(200 <= c < 300 for c in wc)
ok_logins = all(c in ("200", "401", "429") for c in lstat)
errors = re_ + we + logins["errors"]
rss = hwm_kib / 1024
checks = [errors == 0, ok_reads, ok_writes, ok_logins, r99 < 50, rss < 100]
fmt = lambda c: ", ".join(f"{k}: {v}" for k, v in sorted(c.items(), key=lambda kv: str(kv[0])))
print(f"| {name} | {rrate:,.0f}/s ({fmt(rc)}) | {r50:.2f} / {r99:.2f} | {wrate:,.0f}/s ({fmt(wc)}) | {w50:.2f} / {w99:.2f} "
      f"| {logins['attempts'] / dur:,.0f}/s ({fmt(lstat)}) | {errors} | {rss:.1f} MiB | {'PASS' if all(checks) else 'FAIL'} |")
open(f"{d}/pass", "w").write("1" if all(checks) else "0")
PY
    kill "$pid"; wait "$pid" 2>/dev/null || true
    [[ $(cat "$WORK/$name/pass") == 1 ]]
}

printf '| database | reads (statuses) | reads p50 / p99 ms | writes (statuses) | writes p50 / p99 ms | logins (statuses) | socket errors | peak RSS | result |\n|---|---|---|---|---|---|---|---|---|\n' >"$WORK/table.md"
fail=0
run_one sqlite "sqlite://$WORK/soak.db" || fail=1
if [[ "${SOAK_SKIP_PG:-0}" != 1 ]] && pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    psql -X -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" -c "CREATE DATABASE $PGDB" >/dev/null
    PG_CREATED=1
    run_one postgres "postgres://postgres@127.0.0.1:5432/$PGDB" || fail=1
fi
echo
cat "$WORK/table.md"
exit "$fail"
