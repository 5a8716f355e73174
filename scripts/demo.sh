#!/usr/bin/env bash
# Quick start: installs what is missing, builds Bolero, starts a local registry with a demo image built here, starts
# the node agent (embedded SQLite under /var/lib/bolero), and runs a demo microVM, printing its output.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[[ $(id -u) -eq 0 ]] || { echo "run as root: the agent manages VMs, devices and nftables" >&2; exit 1; }

listen="${BOLERO_LISTEN:-127.0.0.1:7070}"
data_dir="${BOLERO_DATA_DIR:-/var/lib/bolero}"
run_dir="$data_dir/demo"
api="http://$listen/api/v1"

install_packages
find_java
echo "building…" >&2
build
mkdir -p "$run_dir"

# A local registry (Debian's docker-registry) with the demo image.
reg_port=$(free_port)
cat >"$run_dir/registry.yml" <<YML
version: 0.1
storage:
  filesystem:
    rootdirectory: $run_dir/registry
http:
  addr: 127.0.0.1:$reg_port
log:
  level: error
YML
docker-registry serve "$run_dir/registry.yml" >"$run_dir/registry.log" 2>&1 &
echo $! >"$run_dir/registry.pid"
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$reg_port/v2/" >/dev/null && break; sleep 0.1; done
image="127.0.0.1:$reg_port/demo/hello:1"
"$BOLERO_HOME/scripts/build-image.sh" "$image" \
  --cmd sh --cmd -c --cmd 'echo "Hello from a Bolero microVM!"; echo "kernel: $(uname -sr), cpus: $(nproc), user: $(id -un)"; cat /etc/hostname 2>/dev/null || hostname' \
  >/dev/null

# The node agent, in the background; its VMs outlive it.
if curl -sf "$api/machines" >/dev/null 2>&1; then
  echo "an agent already listens on $listen; using it" >&2
else
  nohup "$BOLERO_HOME/bin/bolero" agent --listen "$listen" --data-dir "$data_dir" >"$run_dir/agent.log" 2>&1 &
  echo $! >"$run_dir/agent.pid"
  for _ in $(seq 300); do curl -sf "$api/machines" >/dev/null 2>&1 && break; sleep 0.2; done
fi

echo "creating a machine from $image…" >&2
id=$(curl -sf -X POST "$api/machines" -H 'Content-Type: application/json' \
  -d "{\"image\": \"$image\", \"start\": true}" | sed -E 's/.*"id":"([0-9a-f]+)".*/\1/')
curl -s "$api/machines/$id/wait?state=stopped,failed&timeout_s=300" >"$run_dir/machine.json"
echo "--- machine $id ---"
cat "$run_dir/machine.json"; echo
echo "--- its output (GET $api/machines/$id/logs) ---"
curl -s "$api/machines/$id/logs"
cat <<TXT
---
The agent runs in the background (pid $(cat "$run_dir/agent.pid" 2>/dev/null || echo "?"), log $run_dir/agent.log).
Talk to it:
  curl -s $api/machines
  curl -s -X POST $api/machines -d '{"image": "$image", "start": true, "init": {"cmd": ["sh", "-c", "echo hi; sleep 30"]}}'
  curl -s $api/machines/ID/logs?follow=true
  curl -s -X POST $api/machines/ID/stop
  curl -s -X DELETE '$api/machines/ID?force=true'
Stop it: kill \$(cat $run_dir/agent.pid) \$(cat $run_dir/registry.pid)
TXT
