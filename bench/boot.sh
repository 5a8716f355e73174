#!/usr/bin/env bash
# Boot benchmark (issues 2 and 19): time from POST /api/v1/machines (start: true) to the workload's first log line,
# beside a bare qemu-system-x86_64 boot of the same kernel, initramfs and drive, for Bolero's lean guest kernel and
# Debian's kernel (the baseline), over RUNS interleaved runs (default 5). Prints all four, their ratios, and each
# kernel's own boot time. Builds the lean kernel first when it is not cached (scripts/build-kernel.sh), unless
# LEAN_KERNEL names the vmlinux to measure.
# Run as root after building (./mvnw -q -DskipTests package).
# The agents run with AGENT_FLAGS (default: --no-jail --no-network, so that the bare boot replays the very same QEMU
# command line; with the jail, QEMU's command line names paths inside its chroot).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
runs="${RUNS:-5}"
find_java
[[ -f "$BOLERO_HOME/cli/target/bolero-cli.jar" ]] || build
lean=${LEAN_KERNEL:-$("$BOLERO_HOME/scripts/build-kernel.sh")} # LEAN_KERNEL: measure that vmlinux instead
debian=$(for k in /boot/vmlinuz-*; do [[ -d /lib/modules/${k#/boot/vmlinuz-} ]] && echo "$k"; done | sort -V | tail -1)
[[ -n $debian ]] || { echo "no /boot/vmlinuz-<version> with /lib/modules/<version> (install linux-image-amd64)" >&2; exit 1; }

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

agents=()
for k in "lean=$lean" "debian=$debian"; do
  label=${k%%=*}
  port=$(free_port)
  # shellcheck disable=SC2086
  "$BOLERO_HOME/bin/bolero" agent --listen "127.0.0.1:$port" --data-dir "$work/$label" --kernel "${k#*=}" \
    ${AGENT_FLAGS:---no-jail --no-network} >"$work/agent-$label.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/api/v1/machines" >/dev/null && break; sleep 0.2; done
  agents+=("$label=http://127.0.0.1:$port=$work/$label")
done

echo "boot benchmark: $runs interleaved runs on $(nproc) cores, accelerator: $(grep -qE 'vmx|svm' /proc/cpuinfo && echo kvm-capable || echo tcg)"
python3 "$BOLERO_HOME/bench/boot.py" "$image" "$work" "$runs" "${agents[@]}"
