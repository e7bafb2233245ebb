#!/usr/bin/env bash
# GLEH performance benchmark: one command, `bash bench/run.sh [--quick]`.
#
# Measures, for SQLite (always) and PostgreSQL (when `pg_isready -h 127.0.0.1 -p 5432`
# succeeds), against a release build of `gleh serve`:
#   - hello-world axum baseline (examples/bench_hello.rs) vs GET /health, GET /api/content
#     (50 courses) and GET /api/check_session (wrk, 64 connections, 2 threads), with their
#     p99; gleh runs in production mode with LOG_DIR (an access line per request)
#   - raw Argon2id verification rate (examples/argon2_rate.rs) vs POST /api/login (200s only)
#   - GET /health p99 (4 connections) while 64 connections flood POST /api/login
#   - start-to-ready (log ready_ms and spawn-to-/health wall time), idle RSS, peak RSS
#   - e-books: a fake Calibre-Web (bench/fake_opds.py, 2,000 books in pages of 100): the
#     synchronisation's time (log `ebooks_synced` duration_ms) and GET /api/content with
#     50 courses and 2,000 books vs the same run's hello-world floor
# and prints a markdown table (also written to bench/results/latest.md, git-ignored).
# See docs/performance.md.
#
# Everything listens on 127.0.0.1 only. Every process started here is stopped on exit, the
# SQLite files live in a temporary directory that is removed, and the PostgreSQL database
# `gleh_bench` is dropped. All loops are bounded.
#
# Environment overrides (all optional):
#   BENCH_DURATION   seconds per wrk run (default 10, or 3 with --quick)
#   BENCH_PORT       first port to try (default 18470; the next free ports are used)
#   BENCH_PG_HOST / BENCH_PG_PORT / BENCH_PG_USER   (default 127.0.0.1 / 5432 / postgres)
#   BENCH_SKIP_PG=1  skip PostgreSQL even when it is reachable
#   BENCH_SKIP_BUILD=1  use the existing target/release binaries
#   BENCH_ONLY_EBOOKS=1 measure only the hello-world floor and the e-book scenario
#   BENCH_BOOKS      books in the fake Calibre-Web (default 2000)
#   CARGO_TARGET_DIR  where the release binaries are built and looked for (default target/)

set -Eeuo pipefail

QUICK=0
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=1 ;;
        -h | --help)
            sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "usage: bash bench/run.sh [--quick]" >&2
            exit 2
            ;;
    esac
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

if ((QUICK)); then DUR=${BENCH_DURATION:-3}; else DUR=${BENCH_DURATION:-10}; fi
CONNS=64
THREADS=2
ARGON2_SECS=5
BENCH_USER=benchuser
BENCH_PASS=bench-password-123
PG_HOST=${BENCH_PG_HOST:-127.0.0.1}
PG_PORT=${BENCH_PG_PORT:-5432}
PG_USER=${BENCH_PG_USER:-postgres}
PG_DB=gleh_bench
RESULTS_DIR="$ROOT/bench/results"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
GLEH="$TARGET/release/gleh"
HELLO="$TARGET/release/examples/bench_hello"
BOOKS=${BENCH_BOOKS:-2000}
ARGON2_RATE="$TARGET/release/examples/argon2_rate"
# Only the start-up module logs at info (for the "listening" line with ready_ms); everything
# else at warn, so per-request and per-login log lines stay out of the measurements.
GLEH_LOG_LEVEL="warn,gleh::server=info,gleh::ebooks=info,gleh::access=info"

WORK=$(mktemp -d /tmp/gleh-bench.XXXXXX)
BENCH_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
rm -rf "$RESULTS_DIR/logs"
PIDS=()
PG_CREATED=0

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

# --- process management ----------------------------------------------------------------

# Stops one process we started: SIGTERM, up to ~10 s, then SIGKILL.
stop_pid() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

forget_pid() {
    local pid=$1 keep=() p
    for p in "${PIDS[@]}"; do [[ "$p" == "$pid" ]] || keep+=("$p"); done
    PIDS=("${keep[@]+"${keep[@]}"}")
}

psql_admin() {
    psql -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres "$@"
}

cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do stop_pid "$pid"; done
    if ((PG_CREATED)); then
        psql_admin -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 ||
            log "warning: could not drop database $PG_DB"
    fi
    if [[ -d "$WORK" ]]; then
        mkdir -p "$RESULTS_DIR/logs"
        cp "$WORK"/*.log "$WORK"/*.txt "$RESULTS_DIR/logs/" 2>/dev/null || true
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- ports -------------------------------------------------------------------------------

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
NEXT_PORT=${BENCH_PORT:-18470}
free_port() {
    local i
    for ((i = 0; i < 200; i++)); do
        if ! port_busy "$NEXT_PORT"; then
            echo "$NEXT_PORT"
            NEXT_PORT=$((NEXT_PORT + 1))
            return 0
        fi
        NEXT_PORT=$((NEXT_PORT + 1))
    done
    die "no free port found"
}

# --- measurement helpers ---------------------------------------------------------------

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Polls URL until it answers 2xx; prints the elapsed ms since $2 (an epoch-ms). Bounded.
wait_http() {
    local url=$1 t0=$2 pid=$3 deadline
    deadline=$(($(now_ms) + 60000))
    while (($(now_ms) < deadline)); do
        if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then
            echo $(($(now_ms) - t0))
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.002
    done
    return 1
}

proc_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
kib_to_mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

# wrk's "Requests/sec" counts every response; this prints 2xx/3xx responses per second
# (total minus "Non-2xx or 3xx responses") from a saved wrk output.
wrk_ok_rate() {
    awk '
        / requests in / {
            total = $1; d = $4; sub(/,$/, "", d)
            if (d ~ /ms$/) { sub(/ms$/, "", d); secs = d / 1000 }
            else if (d ~ /m$/) { sub(/m$/, "", d); secs = d * 60 }
            else if (d ~ /h$/) { sub(/h$/, "", d); secs = d * 3600 }
            else { sub(/s$/, "", d); secs = d }
        }
        /Non-2xx or 3xx responses:/ { bad = $NF }
        END { if (secs > 0) printf "%.0f", (total - bad) / secs; else print "n/a" }
    ' "$1"
}
wrk_non2xx() { awk '/Non-2xx or 3xx responses:/ {n = $NF} END {print n + 0}' "$1"; }
wrk_errors() {
    awk '/Socket errors:/ {
        s = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) { v = $i; sub(/,/, "", v); s += v }
        n = s } END {print n + 0}' "$1"
}
# p99 from `wrk --latency` output, in milliseconds.
wrk_p99_ms() {
    awk '
        $1 == "99%" {
            v = $2
            if (v ~ /us$/) { sub(/us$/, "", v); ms = v / 1000 }
            else if (v ~ /ms$/) { sub(/ms$/, "", v); ms = v }
            else if (v ~ /m$/) { sub(/m$/, "", v); ms = v * 60000 }
            else { sub(/s$/, "", v); ms = v * 1000 }
            printf "%.2f", ms; found = 1
        }
        END { if (!found) print "n/a" }
    ' "$1"
}

run_wrk() { # run_wrk OUTFILE wrk-args...
    local out=$1
    shift
    log "wrk $(printf '%s ' "$@" | sed 's/session=[^ ]*/session=…/')"
    wrk "$@" >"$out" 2>&1 || die "wrk failed: $(cat "$out")"
}

# --- setup -------------------------------------------------------------------------------

command -v curl >/dev/null || die "curl is required"
command -v python3 >/dev/null || die "python3 is required (SQLite course inserts)"
if ! command -v wrk >/dev/null; then
    log "installing wrk"
    if [[ $(id -u) -eq 0 ]]; then SUDO=(); else SUDO=(sudo); fi
    "${SUDO[@]}" apt-get update -qq && "${SUDO[@]}" apt-get install -y -qq wrk >/dev/null ||
        die "could not install wrk (apt-get install wrk)"
fi

if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
    log "building release gleh and the bench examples (cargo build --release --locked)"
    cargo build --release --locked --bin gleh --example bench_hello --example argon2_rate >&2 ||
        die "cargo build failed"
fi
for b in "$GLEH" "$HELLO" "$ARGON2_RATE"; do [[ -x "$b" ]] || die "missing $b"; done

cat >"$WORK/login.lua" <<EOF
-- POST /api/login; counts 200s per thread and reports them in done().
wrk.method = "POST"
wrk.body = '{"username":"$BENCH_USER","password":"$BENCH_PASS"}'
wrk.headers["Content-Type"] = "application/json"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; other = 0 end
function response(status, headers, body)
  if status == 200 then ok = ok + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local o, x = 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); x = x + t:get("other") end
  io.write(string.format("LOGIN_OK %d\nLOGIN_OTHER %d\nLOGIN_DURATION_US %d\n", o, x, summary.duration))
end
EOF

declare -A R # results: R[<db>.<metric>]

# --- per-database run ----------------------------------------------------------------------

# start_gleh NAME DATABASE_URL PORT → sets GPID, G_READY_MS, G_WALL_MS; log in $WORK/NAME.log
start_gleh() { # start_gleh NAME DATABASE_URL PORT [VAR=VALUE…]
    local name=$1 url=$2 port=$3 t0 logf="$WORK/$1.log"
    shift 3
    t0=$(now_ms)
    # Production mode, with an access line per request written to LOG_DIR/access.log
    # (issue 13 point 4 measures the hub as it is deployed).
    env "$@" BIND="127.0.0.1:$port" DATABASE_URL="$url" GLEH_ENV="${G_ENV:-production}" \
        SECRET_KEY="$BENCH_SECRET" PUBLIC_URL="http://127.0.0.1:$port" LOG_DIR="$WORK/logs-$name" \
        AUTH_RATE_LIMIT=1000000000 LOG_FORMAT=json LOG_LEVEL="$GLEH_LOG_LEVEL" \
        "$GLEH" serve >"$logf" 2>&1 &
    GPID=$!
    PIDS+=("$GPID")
    G_WALL_MS=$(wait_http "http://127.0.0.1:$port/health" "$t0" "$GPID") ||
        die "gleh ($name) did not answer /health; log: $(tail -20 "$logf")"
    G_READY_MS=$(grep -h '"event":"listening"' "$logf" | tail -1 |
        sed -n 's/.*"ready_ms":\([0-9]*\).*/\1/p')
    [[ -n "$G_READY_MS" ]] || G_READY_MS="n/a"
}

stop_gleh() {
    stop_pid "$GPID"
    forget_pid "$GPID"
}

add_courses_sqlite() {
    python3 - "$1" <<'EOF'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
have = db.execute("SELECT COUNT(*) FROM courses").fetchone()[0]
now = int(time.time())
rows = [
    (
        f"bench-course-{i:02d}",
        f"Benchmark Course {i}: Systems Performance",
        "A course added by bench/run.sh so the catalogue has fifty entries. " * 3,
        "Benchmarks, Performance, Computer Science",
        "",
        "Bench Instructor",
        f"B.{i:03d}",
        "Fall",
        "2026",
        "Undergraduate",
        "Computer Science",
        now,
    )
    for i in range(1, 50 - have + 1)
]
db.executemany(
    "INSERT INTO courses (uid, title, description, categories, thumbnail, instructor,"
    " course_number, term, year, level, department, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    rows,
)
db.commit()
print(db.execute("SELECT COUNT(*) FROM courses").fetchone()[0])
EOF
}

add_courses_pg() {
    psql -X -q -t -A -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" <<'EOF'
INSERT INTO courses (uid, title, description, categories, thumbnail, instructor,
                     course_number, term, year, level, department, created_at)
SELECT 'bench-course-' || lpad(g::text, 2, '0'),
       'Benchmark Course ' || g || ': Systems Performance',
       repeat('A course added by bench/run.sh so the catalogue has fifty entries. ', 3),
       'Benchmarks, Performance, Computer Science', '', 'Bench Instructor',
       'B.' || lpad(g::text, 3, '0'), 'Fall', '2026', 'Undergraduate', 'Computer Science',
       extract(epoch FROM now())::bigint
FROM generate_series(1, 50 - (SELECT COUNT(*) FROM courses)) AS g;
SELECT COUNT(*) FROM courses;
EOF
}

# The e-book scenario: gleh (with the 50 courses already in the database) synchronises
# $BOOKS books from bench/fake_opds.py at start; the synchronisation's own duration is read
# from its `ebooks_synced` log line, then /api/content (courses + books) is measured.
bench_ebooks() { # bench_ebooks KEY DATABASE_URL PORT
    local db=$1 url=$2 port=$3 fport fpid t0 deadline n base out
    fport=$(NEXT_PORT=$((port + 1)) free_port) # not $port: gleh takes it back below
    python3 "$ROOT/bench/fake_opds.py" "$fport" "$BOOKS" 100 >"$WORK/fake-opds-$db.log" 2>&1 &
    fpid=$!
    PIDS+=("$fpid")
    wait_http "http://127.0.0.1:$fport/cw/opds/new" "$(now_ms)" "$fpid" >/dev/null ||
        die "fake_opds.py did not start: $(cat "$WORK/fake-opds-$db.log")"
    t0=$(now_ms)
    start_gleh "$db-ebooks" "$url" "$port" CALIBRE_WEB_URL="http://127.0.0.1:$fport/cw"
    base="http://127.0.0.1:$port"
    deadline=$(($(now_ms) + 300000))
    until grep -q '"event":"ebooks_synced"' "$WORK/$db-ebooks.log"; do
        (($(now_ms) < deadline)) || die "no ebooks_synced line in 300 s: $(tail -5 "$WORK/$db-ebooks.log")"
        grep -q '"event":"ebooks_sync_failed"' "$WORK/$db-ebooks.log" &&
            die "synchronisation failed: $(grep ebooks_sync_failed "$WORK/$db-ebooks.log")"
        sleep 0.05
    done
    R[$db.sync_wall]=$(($(now_ms) - t0))
    out=$(grep -h '"event":"ebooks_synced"' "$WORK/$db-ebooks.log" | tail -1)
    R[$db.sync_ms]=$(sed -n 's/.*"duration_ms":\([0-9]*\).*/\1/p' <<<"$out")
    R[$db.sync_books]=$(sed -n 's/.*"books":\([0-9]*\).*/\1/p' <<<"$out")
    [[ "${R[$db.sync_books]}" == "$BOOKS" ]] || die "synchronised ${R[$db.sync_books]} books, expected $BOOKS"
    n=$(curl -fsS "$base/api/content" | python3 -c 'import json,sys; c=json.load(sys.stdin)["content"]; print(len(c), sum(i["type"] == "ebook" for i in c))')
    [[ "$n" == "$((50 + BOOKS)) $BOOKS" ]] || die "/api/content returned '$n', expected 50 courses and $BOOKS books"
    R[$db.content_bytes]=$(curl -fsS -o /dev/null -w '%{size_download}' "$base/api/content")
    for ((n = 0; n < 20; n++)); do curl -fsS -o /dev/null "$base/api/content" || die "warm-up failed"; done
    run_wrk "$WORK/wrk-content-ebooks-$db.txt" -t"$THREADS" -c"$CONNS" -d"${DUR}s" --timeout 10s "$base/api/content"
    R[$db.content_ebooks]=$(wrk_ok_rate "$WORK/wrk-content-ebooks-$db.txt")
    R[$db.content_ebooks_bad]=$(($(wrk_non2xx "$WORK/wrk-content-ebooks-$db.txt") + $(wrk_errors "$WORK/wrk-content-ebooks-$db.txt")))
    R[$db.rss_ebooks]=$(kib_to_mib "$(proc_kib "$GPID" VmHWM)")
    stop_gleh
    stop_pid "$fpid"
    forget_pid "$fpid"
}

bench_db() { # bench_db KEY DATABASE_URL
    local db=$1 url=$2 port hport hpid n cookie out flood_pid
    log "=== $db ==="

    # Hello-world baseline, measured right before this database's runs (same machine load).
    hport=$(free_port)
    "$HELLO" "$hport" >"$WORK/hello-$db.log" 2>&1 &
    hpid=$!
    PIDS+=("$hpid")
    wait_http "http://127.0.0.1:$hport/" "$(now_ms)" "$hpid" >/dev/null || die "bench_hello did not start"
    run_wrk "$WORK/wrk-hello-$db.txt" -t"$THREADS" -c"$CONNS" -d"${DUR}s" "http://127.0.0.1:$hport/"
    R[$db.hello]=$(wrk_ok_rate "$WORK/wrk-hello-$db.txt")
    stop_pid "$hpid"
    forget_pid "$hpid"

    # First start on an empty database (migrations + the 14-course sample seed); then stop,
    # add the user and 36 courses, and start again: the measured start is a restart.
    # (Development mode migrates and seeds by itself; production refuses a database with
    # pending migrations.)
    port=$(free_port)
    G_ENV=development start_gleh "$db-first" "$url" "$port"
    R[$db.ready_fresh]=$G_READY_MS
    stop_gleh
    printf '%s\n' "$BENCH_PASS" | env DATABASE_URL="$url" GLEH_ENV=development LOG_LEVEL=warn \
        "$GLEH" user create "$BENCH_USER" >>"$WORK/$db-setup.log" 2>&1 ||
        die "gleh user create failed: $(cat "$WORK/$db-setup.log")"
    if [[ $db == sqlite ]]; then n=$(add_courses_sqlite "${url#sqlite://}"); else n=$(add_courses_pg); fi
    [[ "$n" == 50 ]] || die "expected 50 courses in $db, found '$n'"
    if [[ "${BENCH_ONLY_EBOOKS:-0}" == 1 ]]; then
        bench_ebooks "$db" "$url" "$port"
        log "$db done (e-books only)"
        return 0
    fi

    start_gleh "$db" "$url" "$port"
    R[$db.ready_ms]=$G_READY_MS
    R[$db.ready_wall]=$G_WALL_MS
    R[$db.rss_ready]=$(kib_to_mib "$(proc_kib "$GPID" VmRSS)")
    local base="http://127.0.0.1:$port"

    n=$(curl -fsS "$base/api/content" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["content"]))')
    [[ "$n" == 50 ]] || die "/api/content returned $n courses, expected 50"
    cookie=$(curl -fsS -D - -o /dev/null -H 'Content-Type: application/json' \
        --data "{\"username\":\"$BENCH_USER\",\"password\":\"$BENCH_PASS\"}" "$base/api/login" |
        tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^=;]*session=[^;]*\).*/\1/p' | head -1)
    [[ -n "$cookie" ]] || die "login did not return a session cookie"
    curl -fsS -o /dev/null -H "Cookie: $cookie" "$base/api/check_session" ||
        die "check_session with the new cookie failed"

    # Warm-up (bounded), then idle RSS.
    for ((n = 0; n < 50; n++)); do
        curl -fsS -o /dev/null "$base/health" -o /dev/null "$base/api/content" \
            -o /dev/null -H "Cookie: $cookie" "$base/api/check_session" ||
            die "warm-up request failed"
    done
    sleep 1
    R[$db.rss_idle]=$(kib_to_mib "$(proc_kib "$GPID" VmRSS)")

    run_wrk "$WORK/wrk-health64-$db.txt" -t"$THREADS" -c"$CONNS" -d"${DUR}s" --latency "$base/health"
    R[$db.health64]=$(wrk_ok_rate "$WORK/wrk-health64-$db.txt")
    R[$db.health64_p99]=$(wrk_p99_ms "$WORK/wrk-health64-$db.txt")
    R[$db.health64_bad]=$(($(wrk_non2xx "$WORK/wrk-health64-$db.txt") + $(wrk_errors "$WORK/wrk-health64-$db.txt")))

    run_wrk "$WORK/wrk-content-$db.txt" -t"$THREADS" -c"$CONNS" -d"${DUR}s" --latency "$base/api/content"
    R[$db.content]=$(wrk_ok_rate "$WORK/wrk-content-$db.txt")
    R[$db.content_p99]=$(wrk_p99_ms "$WORK/wrk-content-$db.txt")
    R[$db.content_bad]=$(($(wrk_non2xx "$WORK/wrk-content-$db.txt") + $(wrk_errors "$WORK/wrk-content-$db.txt")))

    run_wrk "$WORK/wrk-check-$db.txt" -t"$THREADS" -c"$CONNS" -d"${DUR}s" --latency \
        -H "Cookie: $cookie" "$base/api/check_session"
    R[$db.check]=$(wrk_ok_rate "$WORK/wrk-check-$db.txt")
    R[$db.check_p99]=$(wrk_p99_ms "$WORK/wrk-check-$db.txt")
    R[$db.check_bad]=$(($(wrk_non2xx "$WORK/wrk-check-$db.txt") + $(wrk_errors "$WORK/wrk-check-$db.txt")))

    # Raw Argon2id rate right before the login run (the two are compared).
    log "measuring raw Argon2id rate (${ARGON2_SECS} s)"
    R[$db.argon2]=$("$ARGON2_RATE" "$ARGON2_SECS" 2>>"$WORK/argon2-$db.log")
    out="$WORK/wrk-login-$db.txt"
    run_wrk "$out" -t"$THREADS" -c"$CONNS" -d"${DUR}s" --timeout 30s -s "$WORK/login.lua" "$base/api/login"
    R[$db.login]=$(awk '/^LOGIN_OK/ {ok = $2} /^LOGIN_DURATION_US/ {d = $2}
        END { if (d > 0) printf "%.1f", ok / (d / 1e6); else print "n/a" }' "$out")
    R[$db.login_bad]=$(($(awk '/^LOGIN_OTHER/ {print $2}' "$out") + $(wrk_errors "$out")))

    # /health p99 with 4 connections while 64 connections flood /api/login.
    wrk -t"$THREADS" -c"$CONNS" -d"$((DUR + 2))s" --timeout 30s -s "$WORK/login.lua" \
        "$base/api/login" >"$WORK/wrk-flood-$db.txt" 2>&1 &
    flood_pid=$!
    PIDS+=("$flood_pid")
    sleep 1
    run_wrk "$WORK/wrk-health-$db.txt" -t"$THREADS" -c4 -d"${DUR}s" --timeout 10s --latency "$base/health"
    wait "$flood_pid" || log "warning: the login flood wrk exited with an error"
    forget_pid "$flood_pid"
    R[$db.health_p99]=$(wrk_p99_ms "$WORK/wrk-health-$db.txt")
    R[$db.health_bad]=$(($(wrk_non2xx "$WORK/wrk-health-$db.txt") + $(wrk_errors "$WORK/wrk-health-$db.txt")))
    R[$db.flood_logins]=$(awk '/^LOGIN_OK/ {ok = $2} /^LOGIN_DURATION_US/ {d = $2}
        END { if (d > 0) printf "%.1f", ok / (d / 1e6); else print "n/a" }' "$WORK/wrk-flood-$db.txt")

    R[$db.rss_peak]=$(kib_to_mib "$(proc_kib "$GPID" VmHWM)")
    sleep 1
    R[$db.rss_after]=$(kib_to_mib "$(proc_kib "$GPID" VmRSS)")
    stop_gleh
    bench_ebooks "$db" "$url" "$port"
    log "$db done"
}

# --- run ---------------------------------------------------------------------------------

bench_db sqlite "sqlite://$WORK/bench.db"

PG_STATE="not reachable (pg_isready -h $PG_HOST -p $PG_PORT failed)"
if [[ "${BENCH_SKIP_PG:-0}" == 1 ]]; then
    PG_STATE="skipped (BENCH_SKIP_PG=1)"
elif command -v pg_isready >/dev/null && pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then
    psql_admin -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
    psql_admin -c "CREATE DATABASE $PG_DB" >/dev/null
    PG_CREATED=1
    bench_db pg "postgres://$PG_USER@$PG_HOST:$PG_PORT/$PG_DB"
    psql_admin -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
    PG_CREATED=0
    PG_STATE=ok
fi

# --- report ------------------------------------------------------------------------------

val() { # val DB KEY → value or n/a
    if [[ -n "${R[$1.$2]+x}" ]]; then echo "${R[$1.$2]}"; else echo "n/a"; fi
}
# verdict NAME VALUE BASE OP THRESHOLD [info] → "NAME 0.62× PASS" (ratio) or for BASE=- a plain comparison
verdict() {
    local name=$1 v=$2 base=$3 op=$4 thr=$5 info=${6:-}
    [[ "$v" == n/a || "$base" == n/a ]] && return 0
    awk -v n="$name" -v v="$v" -v b="$base" -v op="$op" -v t="$thr" -v info="$info" 'BEGIN {
        if (b == "-") { x = v; s = "" } else { x = (b > 0 ? v / b : 0); s = sprintf("%.3g× ", x) }
        ok = (op == ">=") ? (x >= t) : (x < t)
        printf "%s %s%s", n, s, (info != "" ? "(info)" : (ok ? "PASS" : "FAIL"))
    }'
}
cell2() { # joins the SQLite and PostgreSQL verdicts
    local a=$1 b=$2
    if [[ -n "$a" && -n "$b" ]]; then echo "$a; $b"; else echo "$a$b"; fi
}
flag() { # value with a warning when there were bad responses
    local v=$1 bad=$2
    if [[ "$bad" != n/a && "$bad" -gt 0 ]] 2>/dev/null; then echo "$v (⚠ $bad non-2xx/errors)"; else echo "$v"; fi
}
row() { printf '| %s | %s | %s | %s | %s |\n' "$@"; }

S=sqlite P=pg
pgv() { if [[ $PG_STATE == ok ]]; then val $P "$1"; else echo "n/a"; fi; }

MODE="full run, ${DUR} s per wrk run"
((QUICK)) && MODE="quick run (--quick), ${DUR} s per wrk run"
{
    echo "GLEH benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), $MODE"
    echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM; load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "wrk: $CONNS connections, $THREADS threads unless noted; PostgreSQL: $PG_STATE"
    echo
    row metric SQLite PostgreSQL target ratio/verdict
    row --- ---: ---: --- ---
    row "hello-world axum \`GET /\` (req/s, baseline)" "$(val $S hello)" "$(pgv hello)" "—" "baseline"
    row "\`GET /health\` (req/s)" \
        "$(flag "$(val $S health64)" "$(val $S health64_bad)")" "$(flag "$(pgv health64)" "$(pgv health64_bad)")" \
        "≥ 0.7× hello" \
        "$(cell2 "$(verdict SQLite "$(val $S health64)" "$(val $S hello)" '>=' 0.7)" \
            "$(verdict PG "$(pgv health64)" "$(pgv hello)" '>=' 0.7)")"
    row "\`GET /api/content\`, 50 courses (req/s)" \
        "$(flag "$(val $S content)" "$(val $S content_bad)")" "$(flag "$(pgv content)" "$(pgv content_bad)")" \
        "≥ 0.6× hello" \
        "$(cell2 "$(verdict SQLite "$(val $S content)" "$(val $S hello)" '>=' 0.6)" \
            "$(verdict PG "$(pgv content)" "$(pgv hello)" '>=' 0.6)")"
    row "\`GET /api/check_session\` with a session cookie (req/s)" \
        "$(flag "$(val $S check)" "$(val $S check_bad)")" "$(flag "$(pgv check)" "$(pgv check_bad)")" \
        "≥ 0.5× hello (SQLite), ≥ 0.4× (PG)" \
        "$(cell2 "$(verdict SQLite "$(val $S check)" "$(val $S hello)" '>=' 0.5)" \
            "$(verdict PG "$(pgv check)" "$(pgv hello)" '>=' 0.4)")"
    for k in health64:/health content:/api/content check:/api/check_session; do
        row "\`GET ${k#*:}\` p99 at $CONNS connections (ms)" "$(val $S "${k%%:*}_p99")" "$(pgv "${k%%:*}_p99")" "< 10 ms" \
            "$(cell2 "$(verdict SQLite "$(val $S "${k%%:*}_p99")" - '<' 10)" "$(verdict PG "$(pgv "${k%%:*}_p99")" - '<' 10)")"
    done
    row "raw Argon2id m=19456 t=2 p=1, $(nproc) threads (verifications/s, baseline)" \
        "$(val $S argon2)" "$(pgv argon2)" "—" "baseline"
    row "\`POST /api/login\`, 200s only (logins/s)" \
        "$(flag "$(val $S login)" "$(val $S login_bad)")" "$(flag "$(pgv login)" "$(pgv login_bad)")" \
        "≥ 0.9× raw Argon2id" \
        "$(cell2 "$(verdict SQLite "$(val $S login)" "$(val $S argon2)" '>=' 0.9)" \
            "$(verdict PG "$(pgv login)" "$(pgv argon2)" '>=' 0.9)")"
    row "\`GET /health\` p99, 4 connections, during a 64-connection login flood (ms)" \
        "$(flag "$(val $S health_p99)" "$(val $S health_bad)")" "$(flag "$(pgv health_p99)" "$(pgv health_bad)")" \
        "< 20 ms" \
        "$(cell2 "$(verdict SQLite "$(val $S health_p99)" - '<' 20)" "$(verdict PG "$(pgv health_p99)" - '<' 20)")"
    row "logins/s achieved by that flood (info)" "$(val $S flood_logins)" "$(pgv flood_logins)" "—" "info"
    row "idle RSS after warm-up (MiB, VmRSS)" "$(val $S rss_idle)" "$(pgv rss_idle)" "< 20 MiB" \
        "$(cell2 "$(verdict SQLite "$(val $S rss_idle)" - '<' 20)" "$(verdict PG "$(pgv rss_idle)" - '<' 20)")"
    row "peak RSS after all runs (MiB, VmHWM)" "$(val $S rss_peak)" "$(pgv rss_peak)" "< 100 MiB" \
        "$(cell2 "$(verdict SQLite "$(val $S rss_peak)" - '<' 100)" "$(verdict PG "$(pgv rss_peak)" - '<' 100)")"
    row "RSS 1 s after the login runs (MiB, VmRSS; is peak memory given back?)" \
        "$(val $S rss_after)" "$(pgv rss_after)" "—" "info"
    row "start-to-ready, log \`ready_ms\` (ms)" "$(val $S ready_ms)" "$(pgv ready_ms)" "< 100 ms" \
        "$(cell2 "$(verdict SQLite "$(val $S ready_ms)" - '<' 100)" "$(verdict PG "$(pgv ready_ms)" - '<' 100)")"
    row "start-to-ready, spawn → first \`/health\` 200 (ms, wall)" "$(val $S ready_wall)" "$(pgv ready_wall)" "< 100 ms" \
        "$(cell2 "$(verdict SQLite "$(val $S ready_wall)" - '<' 100)" "$(verdict PG "$(pgv ready_wall)" - '<' 100)")"
    row "first start on an empty database, \`ready_ms\` incl. migrations + seed (ms)" \
        "$(val $S ready_fresh)" "$(pgv ready_fresh)" "—" "info"
    row "RSS right after ready, before any request (MiB)" "$(val $S rss_ready)" "$(pgv rss_ready)" "—" "info"
    row "\`GET /api/content\`, 50 courses + $BOOKS books (req/s; $(val $S content_bytes) bytes)" \
        "$(flag "$(val $S content_ebooks)" "$(val $S content_ebooks_bad)")" \
        "$(flag "$(pgv content_ebooks)" "$(pgv content_ebooks_bad)")" "— (info)" \
        "$(cell2 "$(verdict SQLite "$(val $S content_ebooks)" "$(val $S hello)" '>=' 0 info)" \
            "$(verdict PG "$(pgv content_ebooks)" "$(pgv hello)" '>=' 0 info)")"
    row "synchronising $BOOKS books, 20 pages of 100 (ms, log \`duration_ms\`)" \
        "$(val $S sync_ms)" "$(pgv sync_ms)" "seconds, not minutes (< 10,000 ms)" \
        "$(cell2 "$(verdict SQLite "$(val $S sync_ms)" - '<' 10000)" "$(verdict PG "$(pgv sync_ms)" - '<' 10000)")"
    row "gleh start → \`ebooks_synced\` logged (ms, wall)" "$(val $S sync_wall)" "$(pgv sync_wall)" "—" "info"
    row "peak RSS with $BOOKS books after the wrk run (MiB, VmHWM)" "$(val $S rss_ebooks)" "$(pgv rss_ebooks)" "—" "info"
} >"$WORK/table.md"

mkdir -p "$RESULTS_DIR"
cp "$WORK/table.md" "$RESULTS_DIR/latest.md"
echo
cat "$WORK/table.md"
echo
log "table written to bench/results/latest.md (raw wrk output and logs in bench/results/logs/)"
