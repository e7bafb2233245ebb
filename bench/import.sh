#!/usr/bin/env bash
# `gleh import-gleh` speed (docs/performance.md "Importing from the original"): builds a
# database of the original GLEH's schema (taken from tests/fixtures/gleh-db/gleh.sqlite)
# with USERS accounts, 50 courses, PROGRESS progress rows and USERS/2 notes, then times a
# dry run and a real import into a fresh SQLite hub database, and a second (no-op) run.
# Usage: bench/import.sh [BINARY] (default target/release/gleh; USERS=10000 PROGRESS=100000;
# TARGET=postgres imports into a fresh database on 127.0.0.1:5432, user postgres, instead)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/gleh}
users=${USERS:-10000}
progress=${PROGRESS:-100000}
[ -x "$bin" ] || cargo build --release --locked
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work/original.db" "$users" "$progress" <<'PY'
import sqlite3, sys, random
path, users, progress = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fixture = sqlite3.connect("tests/fixtures/gleh-db/gleh.sqlite")
schema = [r[0] for r in fixture.execute(
    "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'")]
# One real Werkzeug hash for every account: import never recomputes hashes.
hash_ = fixture.execute("SELECT password_hash FROM user WHERE username='alice'").fetchone()[0]
db = sqlite3.connect(path)
for sql in schema:
    db.execute(sql)
db.executemany(
    "INSERT INTO user (id, username, password_hash, is_admin, avatar, about_me, created_at)"
    " VALUES (?, ?, ?, 0, 'default_avatar.png', ?, '2024-01-01 00:00:00')",
    ((i, f"user{i}", hash_, f"about user {i}") for i in range(1, users + 1)))
courses = 50
db.executemany(
    "INSERT INTO course (id, uid, title, path, description, categories) VALUES (?, ?, ?, ?, ?, ?)",
    ((i, f"course-{i}", f"Course {i}", f"static/courses/course-{i}/index.html",
      "A course", "Mathematics") for i in range(1, courses + 1)))
statuses = ["Not Started", "In Progress", "Completed"]
per_user = max(1, progress // users)
rows, n = [], 0
for u in range(1, users + 1):
    for c in random.Random(u).sample(range(1, courses + 1), min(per_user, courses)):
        n += 1
        rows.append((n, statuses[n % 3], u, c))
        if n >= progress:
            break
    if n >= progress:
        break
db.executemany("INSERT INTO course_progress (id, status, user_id, course_id) VALUES (?, ?, ?, ?)", rows)
db.executemany(
    "INSERT INTO course_note (id, content, user_id, course_id) VALUES (?, ?, ?, 1)",
    ((i, f"note of user {i}", i) for i in range(1, users // 2 + 1)))
db.commit()
print(f"source: {users} users, {courses} courses, {len(rows)} progress rows, {users // 2} notes")
PY
export GLEH_ENV=test DATABASE_URL="sqlite://$work/hub.db" DATA_DIR="$work/data" CONTENT_DIR="$work/content"
if [ "${TARGET:-sqlite}" = postgres ]; then
  pgdb="gleh_bench_import_$$"
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $pgdb"
  trap 'psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $pgdb"; rm -rf "$work"' EXIT
  DATABASE_URL="postgres://postgres@127.0.0.1:5432/$pgdb"
fi
echo "target: ${TARGET:-sqlite}"
SECONDS_NS() { date +%s.%N; }
run() {
  local what=$1; shift
  local t0 t1
  t0=$(SECONDS_NS)
  "$bin" import-gleh "sqlite://$work/original.db" "$@" --json >"$work/$what.json" 2>/dev/null
  t1=$(SECONDS_NS)
  printf '%-22s %6.2f s\n' "$what" "$(echo "$t1 - $t0" | bc)"
}
"$bin" migrate >/dev/null
run "dry run" --dry-run
run "import"
run "second run (no-op)"
python3 - "$work/import.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("counts:", {k: v["added"] for k, v in r["counts"].items()})
PY
