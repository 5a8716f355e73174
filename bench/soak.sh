#!/usr/bin/env bash
# Soak benchmark (#18): N whole machine lives (default 200) on one jailed agent with a real node network — create with
# a published port, a request through it, exec, stop, start, forced delete — by SoakEndToEndTest. Prints the cycle
# time of the first quarter beside the last (does the node slow as it ages?) and what the node held after one warm-up
# cycle beside what it holds after all of them: the agent's file descriptors and threads, taps and bridges, nftables
# lines, the cycles' cgroups, uid claims, mounts and files (the test fails if any grew).
#
# Usage: bench/soak.sh [N]      (root; ~10 s a cycle under TCG on 2 cores)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
find_java
n=${1:-200}
cd "$BOLERO_HOME"
log=$(mktemp /tmp/bolero-soak.XXXXXX)
trap 'rm -f "$log"' EXIT
status=0
./mvnw -B -ntp -q -pl agent -am verify -Dsurefire.failIfNoSpecifiedTests=false \
  -Dtest='dev/bolero/agent/SoakEndToEndTest' -Dbolero.soak.cycles="$n" >"$log" 2>&1 || status=$?
grep -h '^SOAK' agent/target/surefire-reports/dev.bolero.agent.SoakEndToEndTest-output.txt 2>/dev/null || true
if ((status != 0)); then
  grep -E 'FAIL|expected|but was|Expecting' "$log" | head -20 >&2
  echo "soak: FAILED (exit $status)" >&2
fi
exit "$status"
