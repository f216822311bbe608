#!/usr/bin/env bash
# Measures revisions of the library side by side, for before/after ratios
# that one noisy machine can give: it builds the benchmark binaries of the
# root package and of this module for each revision, then runs them
# alternately, one top-level benchmark at a time and revision by revision,
# for COUNT rounds (odd rounds in the order given, even rounds reversed), so
# that drift in the machine's load hits every revision alike. It writes one
# file per revision and package for benchstat, then prints benchstat's
# comparison of each revision with the first.
#
#   ./compare.sh | tee compare.txt            # 4b29012 (before issue 8) against HEAD
#   ./compare.sh main h-core .                # any revisions; "." is the working tree as it is
#   COUNT=3 BENCHTIME=100ms ./compare.sh      # a quick look
#   BENCH='GoWait|AddDone' ./compare.sh       # some top-level benchmarks
#   BENCH='GoWait/n=10000' ./compare.sh       # ... and a sub-benchmark regexp after the first /
#   SKIP='IdleWait//n=100000' ./compare.sh    # -test.skip: on 4b29012 a 100 000-deep idle Wait takes a minute
#   PKGS=root ./compare.sh                    # only the root package's benchmarks
#
# Environment:
#   COUNT      rounds (default 10)
#   BENCHTIME  -test.benchtime of each run (default 300ms)
#   BENCH      regexp of top-level benchmark names (default .), optionally
#              followed by / and a regexp of sub-benchmarks
#   SKIP       -test.skip regexp (default none)
#   PKGS       "root", "bench" or both (default "root bench")
#   OVERLAY    1 (default): compile this checkout's benchmark files, listed
#              in OVERLAY_FILES, into every revision, so that each revision
#              runs the same benchmarks against its own library; 0: each
#              revision's own benchmarks
#   OVERLAY_FILES  paths from the repository root (default: the root's
#              bench_test.go and scale_*bench_test.go, this module's
#              bench_test.go and peers.go; they use only the public API)
#   OUT        directory for the result files (default: a new one in $TMPDIR)
#   TIMEOUT    -test.timeout of each run (default 30m)
#   BENCH_PENDING, BENCH_MAP_ITEMS  as for run.sh (default 1000000 each)
#
# The binaries are built from `git archive` copies in a temporary directory,
# removed on exit; the repository and its worktrees are not touched.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

COUNT=${COUNT:-10}
BENCHTIME=${BENCHTIME:-300ms}
BENCH=${BENCH:-.}
SKIP=${SKIP:-}
PKGS=${PKGS:-root bench}
OVERLAY=${OVERLAY:-1}
OVERLAY_FILES=${OVERLAY_FILES:-$(cd "$root" && ls bench_test.go scale_*bench_test.go bench/bench_test.go bench/peers.go 2>/dev/null | tr '\n' ' ')}
TIMEOUT=${TIMEOUT:-30m}
export BENCH_PENDING=${BENCH_PENDING:-1000000}
export BENCH_MAP_ITEMS=${BENCH_MAP_ITEMS:-1000000}
BENCHSTAT=${BENCHSTAT:-golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da}

revs=("$@")
if [ ${#revs[@]} -eq 0 ]; then
  revs=(4b29012 HEAD)
fi
top=${BENCH%%/*}
sub=
case $BENCH in */*) sub=/${BENCH#*/} ;; esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/waitgroup-compare-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/waitgroup-compare.XXXXXX")}
mkdir -p "$OUT"

echo "# waitgroup: revisions side by side"
echo "date:      $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "go:        $(go version)"
echo "cpu:       $(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | sed 's/^model name[[:space:]]*:[[:space:]]*//' || echo unknown)"
echo "nproc:     $(nproc)"
echo "load:      $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
echo "rounds:    $COUNT x -test.benchtime $BENCHTIME, -test.bench '$BENCH'${SKIP:+, -test.skip '$SKIP'}, packages: $PKGS"
echo "overlay:   $([ "$OVERLAY" = 1 ] && echo "$OVERLAY_FILES" || echo none)"
echo "results:   $OUT"

# Build: a source tree and the test binaries of each revision.
labels=()
srcs=()
for i in "${!revs[@]}"; do
  rev=${revs[$i]}
  if [ "$rev" = . ]; then
    label=worktree
    src=$root
    dirty=
    if [ -n "$(git -C "$root" status --porcelain)" ]; then dirty=", with uncommitted changes"; fi
    echo "rev $i:     $label ($(git -C "$root" log -1 --format='%h %s')$dirty)"
  else
    hash=$(git -C "$root" rev-parse --verify --quiet "$rev^{commit}") || { echo "unknown revision $rev" >&2; exit 1; }
    short=$(git -C "$root" rev-parse --short "$hash")
    label=${rev//[^A-Za-z0-9._-]/_}
    case $hash in "$rev"*) ;; *) label=$label-$short ;; esac
    src=$tmp/src$i
    mkdir -p "$src"
    git -C "$root" archive "$hash" | tar -x -C "$src"
    if [ "$OVERLAY" = 1 ]; then
      for f in $OVERLAY_FILES; do
        if [ -d "$src/$(dirname "$f")" ]; then cp "$root/$f" "$src/$f"; fi
      done
    fi
    echo "rev $i:     $label ($(git -C "$root" log -1 --format='%h %s' "$hash"))"
  fi
  labels+=("$label")
  srcs+=("$src")
  for pkg in $PKGS; do
    dir=$src
    [ "$pkg" = bench ] && dir=$src/bench
    if [ ! -f "$dir/go.mod" ]; then
      echo "  $pkg: no module at this revision, skipped"
      continue
    fi
    (cd "$dir" && go test -c -o "$tmp/bin$i-$pkg.test" .)
    : >"$OUT/$label-$pkg.txt"
  done
done
echo

# The top-level benchmarks of a package that any revision has.
list() {
  local pkg=$1 i
  for i in "${!revs[@]}"; do
    if [ -x "$tmp/bin$i-$pkg.test" ]; then
      "$tmp/bin$i-$pkg.test" -test.list "$top" | grep '^Benchmark' || true
    fi
  done | sort -u
}

run() { # run i pkg benchmark
  local i=$1 pkg=$2 b=$3 dir=${srcs[$1]}
  [ "$pkg" = bench ] && dir=$dir/bench
  [ -x "$tmp/bin$i-$pkg.test" ] || return 0
  # -test.list said which revisions have the benchmark; those without it
  # print no result line, which benchstat shows as a missing cell.
  if ! (cd "$dir" && "$tmp/bin$i-$pkg.test" -test.run '^$' -test.bench "^$b\$$sub" ${SKIP:+-test.skip "$SKIP"} \
    -test.benchtime "$BENCHTIME" -test.count 1 -test.timeout "$TIMEOUT") >>"$OUT/${labels[$i]}-$pkg.txt" 2>&1; then
    echo "  warning: $b failed at ${labels[$i]} (see $OUT/${labels[$i]}-$pkg.txt)" >&2
  fi
}

order=("${!revs[@]}")
for round in $(seq 1 "$COUNT"); do
  echo "round $round/$COUNT: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || true)" >&2
  for pkg in $PKGS; do
    for b in $(list "$pkg"); do
      for i in "${order[@]}"; do
        run "$i" "$pkg" "$b"
      done
    done
  done
  # ABBA: the next round starts with the revision this one ended with.
  rev_order=()
  for ((k = ${#order[@]} - 1; k >= 0; k--)); do rev_order+=("${order[$k]}"); done
  order=("${rev_order[@]}")
done

# Each revision against the first; then, per revision, our figures against
# the baselines in the same run (the root's impl=sync, the module's peers).
for pkg in $PKGS; do
  inputs=()
  for i in "${!revs[@]}"; do
    [ -s "$OUT/${labels[$i]}-$pkg.txt" ] && inputs+=("${labels[$i]}=$OUT/${labels[$i]}-$pkg.txt")
  done
  [ ${#inputs[@]} -gt 0 ] || continue
  echo "## $pkg: each revision against ${labels[0]}"
  echo
  go run "$BENCHSTAT" "${inputs[@]}"
  echo
  col=/impl
  [ "$pkg" = bench ] && col=/peer
  for input in "${inputs[@]}"; do
    echo "## $pkg at ${input%%=*}: against the baseline in the same run (-col $col)"
    echo
    go run "$BENCHSTAT" -filter "$col:/./" -col "$col" "${input#*=}" || true
    echo
  done
done
echo "results in $OUT; e.g. go run $BENCHSTAT ${labels[0]}=$OUT/${labels[0]}-root.txt ${labels[${#labels[@]}-1]}=$OUT/${labels[${#labels[@]}-1]}-root.txt"
