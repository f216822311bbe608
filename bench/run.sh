#!/usr/bin/env bash
# Runs the peer benchmarks and prints, for each workload, a benchstat table
# with one column per peer and the change relative to the first column, the
# baseline (plain go statements with a sync.WaitGroup), then the same medians
# as markdown tables with ratios, as in README.md.
#
#   ./run.sh | tee results.txt                  # the full run (~15 min on 2 cores)
#   COUNT=3 BENCHTIME=50ms ./run.sh             # a quick look
#   BENCH='GoWait$' ./run.sh                    # one workload
#   RUN=0 ./run.sh                              # only summarize raw.txt again
#
# Environment: COUNT (default 10), BENCHTIME (default 300ms), BENCH (a -bench
# regexp, default .), BENCH_PENDING (pending tasks in BenchmarkPendingHeap,
# default 1000000), BENCH_MAP_ITEMS (items of the large MapLimit and
# MapSeqHeap rows, default 1000000), RAW (the raw go test output, default
# raw.txt).
set -euo pipefail
cd "$(dirname "$0")"

COUNT=${COUNT:-10}
BENCHTIME=${BENCHTIME:-300ms}
BENCH=${BENCH:-.}
RAW=${RAW:-raw.txt}
RUN=${RUN:-1}
export BENCH_PENDING=${BENCH_PENDING:-1000000}
export BENCH_MAP_ITEMS=${BENCH_MAP_ITEMS:-1000000}
BENCHSTAT=golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da

echo "# waitgroup peer benchmarks"
echo "date:      $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "go:        $(go version)"
echo "cpu:       $(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | sed 's/^model name[[:space:]]*:[[:space:]]*//' || echo unknown)"
echo "nproc:     $(nproc)"
echo "kernel:    $(uname -sr)"
echo "core:      $(git -C .. log -1 --format='%h %s' -- ':(glob)*.go' 2>/dev/null || echo unknown)$(git -C .. status --porcelain -- ':(glob)*.go' ':!*_test.go' 2>/dev/null | grep -q . && echo ' (uncommitted changes)' || true)"
echo "command:   go test -run '^\$' -bench '$BENCH' -count $COUNT -benchtime $BENCHTIME (BENCH_PENDING=$BENCH_PENDING BENCH_MAP_ITEMS=$BENCH_MAP_ITEMS)"
echo

if [ "$RUN" != 0 ]; then
  # Build benchstat first, so that a broken install fails before the long run.
  go run "$BENCHSTAT" -h >/dev/null 2>&1 || go run "$BENCHSTAT" -h
  # -v prints the reason of each skip ("cannot: ...") for the tables below.
  go test -v -run '^$' -bench "$BENCH" -count "$COUNT" -benchtime "$BENCHTIME" -timeout 60m . >"$RAW"
fi

# One table per workload: benchstat keeps peers in the order they first
# appear, and every workload runs the baseline (peer=sync) first.
for w in GoWait GoWaitErr AddDone AddDoneParallel Wake TimedOutWait PendingHeap Map MapLimit MapSeq MapSeqHeap; do
  if ! grep -q "^Benchmark$w/" "$RAW"; then
    continue
  fi
  echo "## $w"
  echo
  go run "$BENCHSTAT" -filter ".name:$w" -col /peer "$RAW"
  echo
done

echo "## Skipped: the peer cannot do the workload"
echo
grep -h -o 'cannot: .*' "$RAW" | sort -u || true
echo

echo "## Medians and ratios to peer=sync (markdown)"
echo
go run ./internal/mdtable <"$RAW"
