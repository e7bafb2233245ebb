#!/usr/bin/env bash
# fuzz/run.sh SECONDS [TARGET…]: builds the fuzz targets once, runs each for SECONDS
# (all nine unless named), and prints a table of target, executions and findings (crash,
# timeout or out-of-memory inputs written to fuzz/artifacts/<target>/ during this run).
# Exits 1 when a target found something. fuzz/README.md says how to reproduce a finding.
#
# The corpus of each target lives in fuzz/corpus/<target>/ (not committed); it starts
# from fuzz/seeds/<target>/ and the test data of the repository, and keeps what earlier
# runs found. Stable rustc: with `--sanitizer none` cargo fuzz passes no -Z flag (the
# coverage instrumentation is stable), so no nightly and no RUSTC_BOOTSTRAP; the code is
# safe Rust, and libFuzzer's crash, timeout and memory checks stay on. `--debug-assertions`
# turns integer overflow into a finding.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
all=(session_cookie csrf data_json range_header multipart image opds opensearch werkzeug)
targets=("$@")
[ $# -gt 0 ] || targets=("${all[@]}")
flags=(--sanitizer none --debug-assertions)

seed() { # seed TARGET FILE…: copies existing files into the target's corpus
  local t=$1
  shift
  mkdir -p "corpus/$t"
  for f in "$@"; do
    if [ -f "$f" ]; then cp -n "$f" "corpus/$t/seed-$(basename "$(dirname "$f")")-$(basename "$f")"; fi
  done
}

for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  [ -d "seeds/$t" ] && cp -n seeds/"$t"/* "corpus/$t/" 2>/dev/null || true
done
seed data_json ../tests/fixtures/courses/*/data.json ../content/courses/*/data.json
seed opds ../tests/fixtures/opds/*.xml
seed opensearch ../tests/fixtures/opds/osd.xml ../tests/fixtures/opds/billion-laughs.xml

# One build of all the targets (one cargo invocation), then the binaries are run directly:
# the runs are CPU only and hold no cargo lock. NO_BUILD=1 skips the build (run it first
# with NO_RUN=1, e.g. under a lock shared with other builds).
if [ "${NO_BUILD:-0}" != 1 ]; then
  cargo fuzz build "${flags[@]}" >artifacts/build.log 2>&1 || { cat artifacts/build.log >&2; exit 2; }
fi
[ "${NO_RUN:-0}" != 1 ] || exit 0
bin=${CARGO_TARGET_DIR:-target}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
bin=$bin/$(rustc -vV | sed -n 's/^host: //p')/release

found=0
printf '%-16s %12s %9s\n' target execs findings
for t in "${targets[@]}"; do
  before=$(find "artifacts/$t" -type f | wc -l)
  log="artifacts/$t.log"
  # -max_len: 64 KiB covers every format's interesting structure at a useful speed.
  # -rss_limit_mb / -malloc_limit_mb: the avatar decoder's own limit is 128 MiB.
  status=0
  "$bin/$t" -artifact_prefix="artifacts/$t/" "corpus/$t" \
    -max_total_time="$secs" -max_len=65536 -timeout=10 \
    -rss_limit_mb=1024 -malloc_limit_mb=512 -print_final_stats=1 \
    >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  after=$(find "artifacts/$t" -type f | wc -l)
  findings=$((after - before))
  if [ "$status" != 0 ] && [ "$findings" = 0 ]; then findings=1; fi
  [ "$findings" = 0 ] || { found=1; echo "--- $t: see fuzz/$log" >&2; }
  printf '%-16s %12s %9s\n' "$t" "${execs:-?}" "$findings"
done
exit "$found"
