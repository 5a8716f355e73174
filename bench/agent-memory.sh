#!/usr/bin/env bash
# Agent memory benchmark: the node agent's RSS, heap and threads idle, then with N machines (default 20) of 128 MiB
# each running `sleep`, under TCG. Prints both side by side and the cost per machine.
#
# Usage: bench/agent-memory.sh [N]      (root; builds nothing: run ./mvnw -q -DskipTests package first)
# Needs: docker-registry, umoci, skopeo, busybox-static, qemu-system-x86, jcmd (the JDK's). Leaves nothing behind:
# machines, agent, registry and the temporary data directory are removed on exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
find_java
n=${1:-20}
work=$(mktemp -d /tmp/bolero-agent-memory.XXXXXX)
reg_pid="" agent_pid=""
cleanup() {
  if [[ -n $agent_pid ]] && kill -0 "$agent_pid" 2>/dev/null; then
    for id in $(curl -s "$api/machines" | grep -o '"id":"[0-9a-f]*"' | cut -d'"' -f4); do
      curl -s -X DELETE "$api/machines/$id?force=true" >/dev/null || true
    done
    kill "$agent_pid" 2>/dev/null || true
    wait "$agent_pid" 2>/dev/null || true
  fi
  [[ -n $reg_pid ]] && kill "$reg_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_registry "$work"
image="127.0.0.1:$reg_port/bench/sleep:1"
"$BOLERO_HOME/scripts/build-image.sh" "$image" --cmd sleep --cmd 100000 >/dev/null

port=$(free_port)
api="http://127.0.0.1:$port/api/v1"
"$BOLERO_HOME/bin/bolero" agent --listen "127.0.0.1:$port" --data-dir "$work/data" --cpu-overcommit 20 \
  >"$work/agent.log" 2>&1 &
agent_pid=$!
for _ in $(seq 300); do curl -sf "$api/machines" >/dev/null 2>&1 && break; sleep 0.2; done
jvm_pid=$(pgrep -P "$agent_pid" java || echo "$agent_pid")

measure() { # prints: rss_kib threads heap_used_kib
  local rss threads heap
  "$JAVA_HOME/bin/jcmd" "$jvm_pid" GC.run >/dev/null
  sleep 1
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$jvm_pid/status")
  threads=$(awk '/Threads/ {print $2}' "/proc/$jvm_pid/status")
  # every generation's (or G1's one heap's) "total NK, used NK", not Metaspace's
  heap=$("$JAVA_HOME/bin/jcmd" "$jvm_pid" GC.heap_info | grep -vE 'Metaspace|class space' \
    | grep -oE 'total [0-9]+K, used [0-9]+K' | grep -oE 'used [0-9]+' | awk '{s += $2} END {print s}')
  echo "$rss $threads $heap"
}

# Warm up once (boot assets, image pull) so the idle figure includes the same loaded code.
id=$(curl -sf -X POST "$api/machines" -H 'Content-Type: application/json' \
  -d "{\"start\": true, \"config\": {\"image\": \"$image\", \"guest\": {\"memory_mb\": 128}, \"init\": {\"cmd\": [\"true\"]}}}" \
  | grep -o '"id":"[0-9a-f]*"' | cut -d'"' -f4)
curl -s "$api/machines/$id/wait?state=stopped,failed&timeout_s=600" >/dev/null
curl -s -X DELETE "$api/machines/$id" >/dev/null
read -r idle_rss idle_threads idle_heap < <(measure)

for i in $(seq "$n"); do
  curl -sf -X POST "$api/machines" -H 'Content-Type: application/json' \
    -d "{\"start\": true, \"config\": {\"image\": \"$image\", \"guest\": {\"memory_mb\": 128}}}" >/dev/null
done
for id in $(curl -s "$api/machines" | grep -o '"id":"[0-9a-f]*"' | cut -d'"' -f4); do
  curl -s "$api/machines/$id/wait?state=running,failed&timeout_s=900" | grep -q '"state":"running"' \
    || echo "machine $id did not reach running" >&2
done
running=$(curl -s "$api/machines" | grep -o '"state":"running"' | wc -l)
read -r busy_rss busy_threads busy_heap < <(measure)

printf '%-28s %12s %12s\n' "" "idle" "$running machines"
printf '%-28s %12s %12s\n' "agent RSS (MiB)" "$((idle_rss / 1024))" "$((busy_rss / 1024))"
printf '%-28s %12s %12s\n' "agent heap used (KiB)" "$idle_heap" "$busy_heap"
printf '%-28s %12s %12s\n' "platform threads" "$idle_threads" "$busy_threads"
if ((running > 0)); then
  echo "per machine: heap $(((busy_heap - idle_heap) / running)) KiB, RSS $(((busy_rss - idle_rss) / running)) KiB," \
    "platform threads $(( (busy_threads - idle_threads) )) in total for $running machines"
fi
