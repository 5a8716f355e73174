#!/usr/bin/env bash
# Scheduler throughput (JMH, single thread): placements/s on a 10,000-node / 100,000-machine snapshot, for the
# scheduler and for the reference (scan, score and sort every node per placement) in the same run.
# Usage: bench/scheduler.sh [extra JMH options]. Builds the bench module first unless SKIP_BUILD=1.
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  # -DskipTests still compiles the scheduler's test jar, which holds the reference scheduler and fixtures.
  ./mvnw -q -pl bench -am install -DskipTests
fi
results="$(mktemp --suffix=.csv)"
trap 'rm -f "$results"' EXIT
"$JAVA_HOME/bin/java" -jar bench/target/benchmarks.jar SchedulerBenchmark \
  -f 1 -wi 2 -i 3 -w 2s -r 3s -rf csv -rff "$results" "$@"

score() { # benchmark method name -> ops/s as an integer
  awk -F, -v name="$1" '$1 ~ "\\." name "\"$" { printf "%d", $5 }' "$results"
}
fast_batch="$(score schedulerPlanAll)"
fast_single="$(score schedulerPlan)"
reference="$(score referencePlanAll)"
anchor=1500
echo
echo "Scheduler, 10,000 nodes / 100,000 running machines, one thread:"
printf '  scheduler planAll (batches of 200): %12s placements/s\n' "$fast_batch"
printf '  scheduler plan (one per call):      %12s placements/s\n' "$fast_single"
printf '  reference (scan + sort per call):   %12s placements/s\n' "$reference"
awk -v f="$fast_batch" -v r="$reference" -v a="$anchor" 'BEGIN {
  printf "  scheduler / reference:              %12.1fx\n", f / r
  printf "  anchor, Nomad C2M 2020 (2,000,000 containers on 6,100 nodes in 22 min): ~%d placements/s (scheduler: %.0fx)\n", a, f / a
  printf "  goal: over 50,000 placements/s: %s\n", (f > 50000 ? "met" : "NOT met")
}'
