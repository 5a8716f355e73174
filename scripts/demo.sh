#!/usr/bin/env bash
# Quick start: installs what is missing, builds Bolero, serves a demo image built here from a local registry, runs
# `bolero up` (control-plane server and node agent in one process, embedded SQLite under $BOLERO_DATA_DIR), runs a demo
# microVM through the cluster CLI (`bolero run`) and prints its output. Then it keeps Bolero up until Ctrl-C, or, with
# --once, stops at once. Either way it deletes the demo machine and stops `bolero up` and the registry on the way out.
#
#   scripts/demo.sh [--once]
#   env: BOLERO_DATA_DIR (default /var/lib/bolero), BOLERO_LISTEN (default 127.0.0.1:7080),
#        BOLERO_AGENT_LISTEN (default 127.0.0.1:7070)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[[ $(id -u) -eq 0 ]] || { echo "run as root: the agent manages VMs, devices and nftables" >&2; exit 1; }
once=false
case "${1:-}" in
  --once) once=true ;;
  "") ;;
  *) echo "usage: $0 [--once]" >&2; exit 2 ;;
esac

listen="${BOLERO_LISTEN:-127.0.0.1:7080}"
agent_listen="${BOLERO_AGENT_LISTEN:-127.0.0.1:7070}"
data_dir="${BOLERO_DATA_DIR:-/var/lib/bolero}"
run_dir="$data_dir/demo"
bolero="$BOLERO_HOME/bin/bolero"
# The CLI finds the server and the admin token in the config file `bolero up` writes; these make it talk to this one.
export BOLERO_SERVER="http://$listen"

install_packages
find_java
echo "building…" >&2
build
mkdir -p "$run_dir"
for port in "$listen" "$agent_listen"; do
  if curl -s -o /dev/null "http://$port/"; then
    echo "something already listens on $port (another bolero up or agent?); stop it or set BOLERO_LISTEN/BOLERO_AGENT_LISTEN" >&2
    exit 1
  fi
done

up_pid="" reg_pid="" id=""
cleanup() {
  trap - EXIT INT TERM
  if [[ -n $id && -n $up_pid ]] && kill -0 "$up_pid" 2>/dev/null; then
    echo "removing machine $id…" >&2
    "$bolero" rm -f "$id" >/dev/null 2>&1 || true
    # the agent stops and destroys it at its next poll; the server forgets it once the agent's heartbeat no longer has it
    for _ in $(seq 100); do "$bolero" inspect "$id" >/dev/null 2>&1 || break; sleep 0.3; done
  fi
  if [[ -n $up_pid ]]; then
    kill "$up_pid" 2>/dev/null || true
    wait "$up_pid" 2>/dev/null || true
  fi
  if [[ -n $reg_pid ]]; then
    kill "$reg_pid" 2>/dev/null || true
    wait "$reg_pid" 2>/dev/null || true
  fi
  local left
  left=$(pgrep -f -- "$data_dir/agent/machines/" || true)
  [[ -z $left ]] || echo "machines still running (re-adopted by the next bolero up): pids $left" >&2
  echo "stopped." >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A local registry (Debian's docker-registry) with the demo image.
# setsid (in start_registry): Ctrl-C reaches this script only, which then stops everything in order
start_registry "$run_dir"
image="127.0.0.1:$reg_port/demo/hello:1"
"$BOLERO_HOME/scripts/build-image.sh" "$image" \
  --cmd sh --cmd -c --cmd 'echo "Hello from a Bolero microVM!"; echo "kernel: $(uname -sr), cpus: $(nproc), user: $(id -un)"; cat /etc/hostname 2>/dev/null || hostname' \
  >/dev/null

# Bolero: server and agent in one process. It prints the admin token the first time and stores it for the CLI.
echo "starting bolero up (log $run_dir/up.log)…" >&2
setsid "$bolero" up --data-dir "$data_dir" --listen "$listen" --agent-listen "$agent_listen" >"$run_dir/up.log" 2>&1 &
up_pid=$!
await_up "$up_pid" "$run_dir/up.log"
grep -E '^(admin token|bolero up:)' "$run_dir/up.log"
# The agent boots Bolero's lean kernel when scripts/build-kernel.sh has built it, else Debian's (slower to boot). The
# demo does not build it: that takes 10-40 min of both cores, which would slow the demo's own machines.
if grep -q 'guest kernel=.* flavour=DISTRO' "$run_dir/up.log"; then
  echo "guest kernel: Debian's; run scripts/build-kernel.sh once for Bolero's lean kernel, which boots about twice as fast" >&2
fi

echo "+ bolero run $image" >&2
id=$("$bolero" run -d "$image" --name "hello-$(date +%s)" -o json | sed -nE 's/.*"id" *: *"([0-9a-f]+)".*/\1/p' | head -1)
[[ -n $id ]] || { echo "bolero run printed no machine id" >&2; exit 1; }
state=""
for _ in $(seq 600); do
  state=$("$bolero" inspect "$id" | sed -nE 's/.*"state" *: *"([a-z]+)".*/\1/p' | head -1)
  [[ $state == stopped || $state == failed ]] && break
  sleep 0.5
done
echo "--- bolero inspect $id ---"
"$bolero" inspect "$id"
echo "--- its output ---"
"$bolero" logs "$id"
[[ $state == stopped ]] || { echo "the demo machine ended $state" >&2; exit 1; }

if $once; then
  exit 0
fi
cat <<TXT
---
Bolero is up (server $BOLERO_SERVER, node API http://$agent_listen, data dir $data_dir). In another shell:
  bin/bolero run $image --name demo2
  bin/bolero ps -a
  bin/bolero inspect ID
  bin/bolero nodes
  bin/bolero rm -f ID
Ctrl-C here stops it.
TXT
wait "$up_pid"
