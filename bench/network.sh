#!/usr/bin/env bash
# Network benchmark (issue 5): throughput guest->host and host->guest over a machine's published port, and TCP
# connection setup time, each beside the same measurement over loopback on the host; and the time the node network
# takes to attach a machine (address, tap, nftables rules), from the agent's log. Run as root after building
# (./mvnw -q -DskipTests package). SIZE_MB (default 64) per transfer, RUNS (default 3) transfers, CONNECTS (default
# 50) connections, ATTACHES (default 10) extra machines created (not started) to time attach.
# The guest side is busybox httpd in a microVM (under TCG here: the guest CPU is emulated, so expect guest-bound
# figures far below loopback).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
size_mb="${SIZE_MB:-64}" runs="${RUNS:-3}" connects="${CONNECTS:-50}" attaches="${ATTACHES:-10}"
find_java
[[ -f "$BOLERO_HOME/cli/target/bolero-cli.jar" ]] || build

id=$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')
work=$(mktemp -d /tmp/bolero-bench-net.XXXXXX)
netns="bbu$id" veth="bbv$id" prefix="b$id" table="bolero_b$id" pool="10.199.0.0/16"
publish="198.18.251.1"
pids=() agent_port=""
cleanup() {
  cleanup_network_bench "$agent_port" "$prefix" "$table" "$netns" "$veth" "${pids[@]}"
  rm -rf "$work"
}
trap cleanup EXIT

# The host side: an address to publish on (a veth to a throw-away namespace), and loopback servers for the baseline.
publish_veth "$netns" "$veth" "$publish"
mkdir -p "$work/www/cgi-bin"
head -c "$((size_mb << 20))" /dev/zero >"$work/www/big"
cp "$work/www/big" "$work/up.bin"
loop_port=$(free_port) loop_sink=$(free_port)
busybox httpd -f -p "127.0.0.1:$loop_port" -h "$work/www" &
pids+=($!)
# Host -> guest: a TCP sink (busybox nc) takes the bytes; the sender times connect .. all bytes acknowledged by EOF.
(while true; do busybox nc -l -p "$loop_sink" >/dev/null; done) &
pids+=($!)

start_registry "$work"
pids+=("$reg_pid")
image="127.0.0.1:$reg_port/bench/net:1"
"$BOLERO_HOME/scripts/build-image.sh" "$image" \
  --cmd sh --cmd -c --cmd "head -c $((size_mb << 20)) /dev/zero >/www/big; (while true; do nc -l -p 9000 >/dev/null; done) & exec httpd -f -p 8080 -h /www" \
  --file "/www/index.html=up" >/dev/null

agent_port=$(free_port)
"$BOLERO_HOME/bin/bolero" agent --listen "127.0.0.1:$agent_port" --data-dir "$work/data" --network-pool "$pool" \
  --publish-address "$publish" --network-device-prefix "$prefix" --nft-table "$table" >"$work/agent.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$agent_port/api/v1/machines" >/dev/null && break; sleep 0.2; done

pub_port=$(free_port) pub_sink=$(free_port)
curl -sf -H 'Content-Type: application/json' "http://127.0.0.1:$agent_port/api/v1/machines" -d \
  "{\"name\": \"bench\", \"start\": true, \"config\": {\"image\": \"$image\", \"services\": [{\"protocol\": \"tcp\", \"internal_port\": 8080, \"port\": $pub_port}, {\"protocol\": \"tcp\", \"internal_port\": 9000, \"port\": $pub_sink}]}}" >/dev/null
for _ in $(seq 600); do [[ $(curl -s --max-time 2 "http://$publish:$pub_port/" || true) == up ]] && break; sleep 0.5; done
[[ $(curl -s --max-time 2 "http://$publish:$pub_port/" || true) == up ]] || { echo "the guest's web server never answered" >&2; tail -20 "$work/agent.log" >&2; exit 1; }

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
p90() { sort -g | awk '{a[NR]=$1} END {i=int(NR*0.9); if (i<1) i=1; print a[i]}'; }
down() { for _ in $(seq "$runs"); do curl -s -o /dev/null -w '%{speed_download}\n' "$1/big"; done | median; }
up() {
  for _ in $(seq "$runs"); do
    python3 - "$1" "$2" "$((size_mb << 20))" <<'PY'
import socket, sys, time
host, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
chunk = bytes(1 << 20)
start = time.perf_counter()
s = socket.create_connection((host, port))
for _ in range(size >> 20):
    s.sendall(chunk)
s.shutdown(socket.SHUT_WR)
while s.recv(65536):
    pass
print(size / (time.perf_counter() - start))
PY
    sleep 0.3
  done | median
}
connect() { for _ in $(seq "$connects"); do curl -s -o /dev/null -w '%{time_connect}\n' "$1/"; done; }
mbps() { awk '{printf "%8.1f MB/s", $1 / 1048576}'; }

guest="http://$publish:$pub_port" loop="http://127.0.0.1:$loop_port"
echo "network benchmark: $(nproc) cores, accelerator: $(grep -qE 'vmx|svm' /proc/cpuinfo && echo kvm-capable || echo tcg), ${size_mb} MiB x $runs transfers, $connects connections"
printf '%-44s %s   loopback %s\n' "guest -> host (HTTP download, published port)" "$(down "$guest" | mbps)" "$(down "$loop" | mbps)"
printf '%-44s %s   loopback %s\n' "host -> guest (TCP stream, published port)" "$(up "$publish" "$pub_sink" | mbps)" "$(up 127.0.0.1 "$loop_sink" | mbps)"
g=$(connect "$guest") l=$(connect "$loop")
printf '%-44s median %6.3f ms  p90 %6.3f ms   loopback median %6.3f ms  p90 %6.3f ms\n' "TCP connect (curl time_connect)" \
  "$(echo "$g" | median | awk '{print $1*1000}')" "$(echo "$g" | p90 | awk '{print $1*1000}')" \
  "$(echo "$l" | median | awk '{print $1*1000}')" "$(echo "$l" | p90 | awk '{print $1*1000}')"

# Attach time: the first machine of a namespace creates its bridge; later ones only a tap and the rules.
for i in $(seq "$attaches"); do
  curl -sf -H 'Content-Type: application/json' "http://127.0.0.1:$agent_port/api/v1/machines" \
    -d "{\"config\": {\"image\": \"$image\"}, \"namespace\": \"attach$((i % 2))\"}" >/dev/null
done
sleep 0.5
ms=$(grep -o 'network attached .* ms=[0-9.]*' "$work/agent.log" | sed 's/.*ms=//')
printf '%-44s median %6.1f ms  max %6.1f ms  (n=%d; goal: under 20 ms)\n' "network attach per machine (at create)" \
  "$(echo "$ms" | median)" "$(echo "$ms" | sort -g | tail -1)" "$(echo "$ms" | wc -l)"
