#!/usr/bin/env bash
# Deploy benchmark (issue 13): with a real server and two real agents (each in its own network namespace: a cluster
# node offers as many vCPUs as its host has cores, two here, so one node would hold only two machines), the time to roll
# a fleet of COUNT machines (default 3) to a new release that passes its HTTP check (rolling, max_unavailable 1), and
# the time to detect a release whose check fails and finish rolling it back (detected when its new machine fails —
# its check failing past failures_before_restart until its restart policy gives up — or is still not healthy after
# WAIT_S, default 30 s, whichever comes first), beside the cold boot time of one machine of the same config (POST to
# running with its check passing) in the same run. Deploys go through `bolero deploy`, which polls once a second (so each
# figure may be up to 1 s late). The guests are busybox microVMs (under TCG on a host without usable KVM: expect
# guest-bound figures). Run as root after building (./mvnw -q -DskipTests package).
# Leaves nothing behind: machines, agents, links, namespaces, bridge, registry and the work directory go on exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
count="${COUNT:-3}" wait_s="${WAIT_S:-30}"
find_java
[[ -f "$BOLERO_HOME/cli/target/bolero-cli.jar" ]] || build

id=$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')
work=$(mktemp -d /tmp/bolero-bench-deploy.XXXXXX)
bridge="bdb$id" net="198.18.$((150 + RANDOM % 40))"
host_ip="$net.1"
pids=() api="" admin=""
cleanup() {
  if [[ -n $api ]]; then
    curl -s -X PUT -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
      "$api/v1/namespaces/alpha/fleets/web" -d '{"name": "web"}' >/dev/null || true
    for m in $(curl -s -H "Authorization: Bearer $admin" "$api/v1/namespaces/alpha/machines" |
      python3 -c 'import json,sys; [print(m["id"]) for m in json.load(sys.stdin)]' 2>/dev/null); do
      curl -s -X DELETE -H "Authorization: Bearer $admin" "$api/v1/namespaces/alpha/machines/$m" >/dev/null || true
    done
    sleep 5
  fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for n in 1 2; do
    # the agents' VMMs run in their node's namespace; they go with it
    for p in $(ip netns pids "bdn$id$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip link del "bdv$id$n" 2>/dev/null || true
    ip netns del "bdn$id$n" 2>/dev/null || true
  done
  ip link del "$bridge" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The cluster network: a host bridge, one namespace per node plugged into it.
ip link add "$bridge" type bridge
ip addr add "$host_ip/24" dev "$bridge"
ip link set "$bridge" up
for n in 1 2; do
  ip netns add "bdn$id$n"
  ip link add "bdv$id$n" type veth peer name eth0 netns "bdn$id$n"
  ip link set "bdv$id$n" master "$bridge" up
  ip -n "bdn$id$n" addr add "$net.1$n/24" dev eth0
  ip -n "bdn$id$n" link set eth0 up
  ip -n "bdn$id$n" link set lo up
  ip -n "bdn$id$n" route add default via "$host_ip"
done

reg_port=$(free_port)
printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s/registry\nhttp:\n  addr: %s:%s\nlog:\n  level: error\n' \
  "$work" "$host_ip" "$reg_port" >"$work/registry.yml"
setsid docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://$host_ip:$reg_port/v2/" >/dev/null && break; sleep 0.1; done
image="$host_ip:$reg_port/bench/deploy:1"
# Serves /health unless HEALTH=bad: one image, releases told apart by their env.
"$BOLERO_HOME/scripts/build-image.sh" "$image" --cmd sh --cmd -c \
  --cmd 'mkdir -p /www; [ "$HEALTH" = bad ] || echo ok > /www/health; exec httpd -f -p 8080 -h /www' >/dev/null

server_port=$(free_port)
admin="bench-admin-$id-0123456789abcdef" join="bench-join-$id-0123456789abcdef"
BOLERO_ADMIN_TOKEN=$admin BOLERO_JOIN_TOKEN=$join "$BOLERO_HOME/bin/bolero" server --listen "$host_ip:$server_port" \
  --data-dir "$work/server" >"$work/server.log" 2>&1 &
pids+=($!)
api="http://$host_ip:$server_port"
for _ in $(seq 300); do curl -sf "$api/v1/openapi.json" >/dev/null && break; sleep 0.2; done
for n in 1 2; do
  nsenter --net="/run/netns/bdn$id$n" -- "$BOLERO_HOME/bin/bolero" agent --listen "$net.1$n:7070" \
    --data-dir "$work/node$n" --server "$api" --join-token "$join" --node-name "node$n" \
    --insecure-registry "$host_ip:$reg_port" --publish-address "$net.1$n" --network-device-prefix "d$id$n" \
    --nft-table "bolero_d$id$n" >"$work/agent$n.log" 2>&1 &
  pids+=($!)
done

call() { curl -sf -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' "$@"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}'; }
for _ in $(seq 300); do [[ $(call "$api/v1/nodes" | field '.__len__()' 2>/dev/null || echo 0) == 2 ]] && break; sleep 0.2; done
call "$api/v1/namespaces" -d '{"name": "alpha"}' >/dev/null
check='"checks": {"web": {"type": "http", "port": 8080, "path": "/health", "interval_s": 1, "timeout_s": 1}}'
config="{\"image\": \"$image\", \"guest\": {\"cpus\": 1, \"memory_mb\": 256}, \"env\": {\"HEALTH\": \"good\"}, $check}"
# Whether every machine of the fleet (COUNT of them) is running its release with its check passing.
healthy() {
  call "$api/v1/namespaces/alpha/fleets/$1/machines" | python3 -c '
import json, sys
ms = json.load(sys.stdin)
ok = [m for m in ms if m["state"] == "running" and any(c["name"] == "web" and c["status"] == "passing" for c in m["checks"])]
sys.exit(0 if len(ms) == int(sys.argv[1]) and len(ok) == len(ms) else 1)' "$2"
}
await_healthy() {
  for _ in $(seq 3000); do healthy "$1" "$2" && return 0; sleep 0.2; done
  echo "fleet $1 never became healthy; see $work/agent*.log" >&2
  return 1
}

echo "deploy benchmark: $(nproc) cores, $(grep -qE 'vmx|svm' /proc/cpuinfo && echo kvm-capable || echo tcg) host, fleet of $count, rolling (max_unavailable 1), wait_timeout_s $wait_s"

# Baseline: one machine's cold boot, to running with its check passing (its image already pulled by nobody: cold).
call "$api/v1/namespaces/alpha/fleets" -d "{\"name\": \"cold\", \"config\": $config}" >/dev/null
t=$(now)
cold=$(call "$api/v1/namespaces/alpha/fleets/cold/machines" -d '{"start": true}' | field '["id"]')
await_healthy cold 1
boot=$(since "$t")
call -X DELETE "$api/v1/namespaces/alpha/machines/$cold" >/dev/null

call "$api/v1/namespaces/alpha/fleets" -d "{\"name\": \"web\", \"count\": $count, \"config\": $config}" >/dev/null
await_healthy web "$count"

bolero() {
  BOLERO_SERVER=$api BOLERO_TOKEN=$admin BOLERO_NAMESPACE=alpha "$BOLERO_HOME/bin/bolero" "$@"
}
t=$(now)
bolero deploy web --env REVISION=2 --strategy rolling --wait-timeout 300 >"$work/deploy-good.log"
good=$(since "$t")

# The failing release: timestamps of the CLI's progress lines tell when the rollback started.
t=$(now) detected=""
set +e
bolero deploy web --env HEALTH=bad --strategy rolling --wait-timeout "$wait_s" 2>"$work/deploy-bad.err" |
  while IFS= read -r line; do echo "$(since "$t") $line"; done >"$work/deploy-bad.log"
status=${PIPESTATUS[0]}
set -e
bad=$(since "$t")
[[ $status != 0 ]] || { echo "the failing release was not rolled back: $(cat "$work/deploy-bad.log")" >&2; exit 1; }
detected=$(awk '$2 ~ /^rolling_back:/ {print $1; exit}' "$work/deploy-bad.log")
await_healthy web "$count"

printf '%-58s %7.1f s\n' "cold boot of one machine (to its check passing; baseline)" "$boot"
printf '%-58s %7.1f s   (%.1f x the cold boot)\n' "roll $count machines to a good release" "$good" \
  "$(awk -v a="$good" -v b="$boot" 'BEGIN {print a / b}')"
printf '%-58s %7.1f s   (wait_timeout_s %s)\n' "detect the failing release (rollback started)" "${detected:-nan}" "$wait_s"
printf '%-58s %7.1f s   (%.1f x the cold boot)\n' "detect it and finish rolling back" "$bad" \
  "$(awk -v a="$bad" -v b="$boot" 'BEGIN {print a / b}')"
echo "rollback reason: $(cat "$work/deploy-bad.err")"
