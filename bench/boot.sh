#!/usr/bin/env bash
# Boot benchmark (issue 2): time from POST /api/v1/machines (start: true) to the workload's first log line, beside
# a bare qemu-system-x86_64 boot of the same kernel, initramfs and drive, over RUNS interleaved runs (default 5).
# Prints both, and their ratio. Run as root after building (./mvnw -q -DskipTests package).
# The agent runs with AGENT_FLAGS (default: --no-jail --no-network, so that the bare boot replays the very same QEMU
# command line; with the jail, QEMU's command line names paths inside its chroot).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
runs="${RUNS:-5}"
find_java
[[ -f "$BOLERO_HOME/cli/target/bolero-cli.jar" ]] || build

work=$(mktemp -d /tmp/bolero-bench-boot.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pkill -KILL -f "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_registry "$work"
pids+=("$reg_pid")
image="127.0.0.1:$reg_port/bench/boot:1"
"$BOLERO_HOME/scripts/build-image.sh" "$image" --cmd sh >/dev/null

port=$(free_port)
# shellcheck disable=SC2086
"$BOLERO_HOME/bin/bolero" agent --listen "127.0.0.1:$port" --data-dir "$work/data" ${AGENT_FLAGS:---no-jail --no-network} \
  >"$work/agent.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/api/v1/machines" >/dev/null && break; sleep 0.2; done

echo "boot benchmark: $runs interleaved runs on $(nproc) cores, accelerator: $(grep -qE 'vmx|svm' /proc/cpuinfo && echo kvm-capable || echo tcg)"
python3 "$BOLERO_HOME/bench/boot.py" "http://127.0.0.1:$port" "$image" "$work/data" "$work" "$runs"
