#!/usr/bin/env bash
# Private network benchmark (issue 12): guest-to-guest TCP throughput and ping round-trip time between two machines of
# one namespace on the same node and on two nodes (through WireGuard: wireguard-go here, the host has no kernel
# module), and the time from a machine reaching `running` (as the control plane reports it) to its name resolving on
# the other node. A server and two agents, each agent in its own network namespace with --private-network-endpoint;
# three machines of namespace alpha: s1 (the server side) and c1 on node 1, c2 on node 2; then d1 on node 2 for the
# DNS time. The guests are busybox microVMs (under TCG here: the guest CPU is emulated, so expect guest-bound
# figures). Run as root after building (./mvnw -q -DskipTests package). SIZE_MB (default 16) per transfer, RUNS
# (default 3) transfers, PINGS (default 20).
# Leaves nothing behind: machines, agents, links, namespaces, bridge, registry and the work directory go on exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
size_mb="${SIZE_MB:-16}" runs="${RUNS:-3}" pings="${PINGS:-20}"
find_java
[[ -f "$BOLERO_HOME/cli/target/bolero-cli.jar" ]] || build

id=$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')
work=$(mktemp -d /tmp/bolero-bench-private.XXXXXX)
bridge="bpb$id" net="198.18.$((200 + RANDOM % 50))"
host_ip="$net.1"
pids=() api="" admin=""
cleanup() {
  if [[ -n $api ]]; then
    for m in $(curl -s -H "Authorization: Bearer $admin" "$api/v1/namespaces/alpha/machines" |
      python3 -c 'import json,sys; [print(m["id"]) for m in json.load(sys.stdin)]' 2>/dev/null); do
      curl -s -X DELETE -H "Authorization: Bearer $admin" "$api/v1/namespaces/alpha/machines/$m" >/dev/null || true
    done
    sleep 5
  fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for n in 1 2; do
    # the agents' VMMs and wireguard-go run in their node's namespace; they go with it
    for p in $(ip netns pids "bpn$id$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip link del "bpv$id$n" 2>/dev/null || true
    ip netns del "bpn$id$n" 2>/dev/null || true
    rm -f "/var/run/wireguard/bpw$id$n.sock"
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
  ip netns add "bpn$id$n"
  ip link add "bpv$id$n" type veth peer name eth0 netns "bpn$id$n"
  ip link set "bpv$id$n" master "$bridge" up
  ip -n "bpn$id$n" addr add "$net.1$n/24" dev eth0
  ip -n "bpn$id$n" link set eth0 up
  ip -n "bpn$id$n" link set lo up
  ip -n "bpn$id$n" route add default via "$host_ip"
done

# A registry the nodes reach on the bridge.
reg_port=$(free_port)
printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s/registry\nhttp:\n  addr: %s:%s\nlog:\n  level: error\n' \
  "$work" "$host_ip" "$reg_port" >"$work/registry.yml"
setsid docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://$host_ip:$reg_port/v2/" >/dev/null && break; sleep 0.1; done
image="$host_ip:$reg_port/bench/private:1"
"$BOLERO_HOME/scripts/build-image.sh" "$image" \
  --cmd sh --cmd -c --cmd "head -c $((size_mb << 20)) /dev/zero >/www/big; exec httpd -f -p 80 -h /www" \
  --file "/www/index.html=up" >/dev/null

server_port=$(free_port)
admin="bench-admin-$id-0123456789abcdef" join="bench-join-$id-0123456789abcdef"
BOLERO_ADMIN_TOKEN=$admin BOLERO_JOIN_TOKEN=$join "$BOLERO_HOME/bin/bolero" server --listen "$host_ip:$server_port" \
  --data-dir "$work/server" >"$work/server.log" 2>&1 &
pids+=($!)
api="http://$host_ip:$server_port"
for _ in $(seq 300); do curl -sf "$api/v1/openapi.json" >/dev/null && break; sleep 0.2; done
for n in 1 2; do
  nsenter --net="/run/netns/bpn$id$n" -- "$BOLERO_HOME/bin/bolero" agent --listen "$net.1$n:7070" \
    --data-dir "$work/node$n" --server "$api" --join-token "$join" --node-name "node$n" --labels "node=node$n" \
    --insecure-registry "$host_ip:$reg_port" --publish-address "$net.1$n" --network-device-prefix "b$id$n" \
    --nft-table "bolero_b$id$n" --private-network-endpoint "$net.1$n:51820" --private-network-link "bpw$id$n" \
    >"$work/agent$n.log" 2>&1 &
  pids+=($!)
done

call() { curl -sf -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' "$@"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
for _ in $(seq 300); do [[ $(call "$api/v1/nodes" | field '.__len__()' 2>/dev/null || echo 0) == 2 ]] && break; sleep 0.2; done
call "$api/v1/namespaces" -d '{"name": "alpha"}' >/dev/null
call "$api/v1/namespaces/alpha/fleets" -d '{"name": "web", "strategy": "spread"}' >/dev/null
create() {
  call "$api/v1/namespaces/alpha/fleets/web/machines" -d "{\"name\": \"$1\", \"start\": true, \"node_labels\": {\"node\": \"$2\"}, \"config\": {\"image\": \"$image\", \"guest\": {\"cpus\": 1, \"memory_mb\": 256}}}" | field '["id"]'
}
# Prints the machine's private address once the control plane reports it running.
running_ip() {
  for _ in $(seq 1200); do
    local m
    m=$(call "$api/v1/namespaces/alpha/machines/$1")
    if [[ $(echo "$m" | field '["state"]') == running && $(echo "$m" | field '["private_ip"]') != None ]]; then
      echo "$m" | field '["private_ip"]'
      return 0
    fi
    sleep 0.2
  done
  echo "machine $1 never ran; see $work/agent*.log" >&2
  return 1
}
exec_in() {
  python3 -c 'import json,sys; print(json.dumps({"cmd": ["sh", "-c", sys.argv[1]]}))' "$2" |
    call "$api/v1/namespaces/alpha/machines/$1/exec" -d @- | field '["stdout"]'
}

s1=$(create s1 node1) c1=$(create c1 node1) c2=$(create c2 node2)
ip_s1=$(running_ip "$s1") && running_ip "$c1" >/dev/null && running_ip "$c2" >/dev/null
# Both clients reach s1 before measuring (peers and rules settle within a poll).
for c in "$c1" "$c2"; do
  for _ in $(seq 60); do [[ $(exec_in "$c" "printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 2 $ip_s1 80 | tail -1") == up ]] && break; sleep 1; done
done

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
# MB/s of an HTTP/1.0 download of SIZE_MB from s1 by the client guest, timed in the guest (busybox time: to the EOF).
throughput() {
  for _ in $(seq "$runs"); do
    exec_in "$1" "time sh -c \"printf 'GET /big HTTP/1.0\\r\\n\\r\\n' | nc $ip_s1 80 >/dev/null\" 2>&1" |
      awk -v mb="$size_mb" '/^real/ {print mb / ($2 * 60 + $3)}'
  done | median
}
rtt() { exec_in "$1" "ping -q -c $pings -i 0.2 $ip_s1" | awk -F'/' '/min\/avg\/max/ {print $4}'; }

echo "private network benchmark: $(nproc) cores, $(grep -qE 'vmx|svm' /proc/cpuinfo && echo kvm-capable || echo tcg) host, wireguard-go, ${size_mb} MiB x $runs transfers, $pings pings"
same_t=$(throughput "$c1") cross_t=$(throughput "$c2")
same_r=$(rtt "$c1") cross_r=$(rtt "$c2")
printf '%-40s same node %8.2f MB/s   across nodes %8.2f MB/s   ratio %.2f\n' "guest -> guest TCP (busybox nc)" \
  "$same_t" "$cross_t" "$(awk -v a="$cross_t" -v b="$same_t" 'BEGIN {print a / b}')"
printf '%-40s same node %8.3f ms     across nodes %8.3f ms     ratio %.2f\n' "guest -> guest ping RTT (avg)" \
  "$same_r" "$cross_r" "$(awk -v a="$cross_r" -v b="$same_r" 'BEGIN {print a / b}')"

# DNS: from the control plane showing d1 running to c1's node answering its name (c1 asks its gateway).
d1=$(create d1 node2)
running_ip "$d1" >/dev/null
t0=$(date +%s%N)
until exec_in "$c1" "nslookup d1.alpha.internal" | grep -q "Address.*$(call "$api/v1/namespaces/alpha/machines/$d1" | field '["private_ip"]')"; do
  [[ $(( ($(date +%s%N) - t0) / 1000000000 )) -lt 60 ]] || { echo "d1's name never resolved on node 1" >&2; exit 1; }
done
t1=$(date +%s%N)
printf '%-40s %8.0f ms (running on node 2 -> resolvable on node 1, as seen through the API and exec: an upper bound)\n' \
  "DNS propagation" "$(( (t1 - t0) / 1000000 ))"
