#!/usr/bin/env bash
# Wake-on-request benchmark (issue 14): through a real gateway to a real microVM, the time from a request for a fleet
# whose only machine is stopped to that request's answer (the gateway holds the request, starts the machine and
# forwards it once the machine's web server answers), beside a cold boot measured the same way in the same run: a new
# machine created with start: true, to the first answer through the gateway. `bolero up` runs the server, an agent and
# a gateway in one process, with its own data directory, free loopback ports, its own device prefix, nftables table and
# private network link; the fleet is one busybox httpd per machine (http_service on port 8080, auto_start). ROUNDS rounds
# (default 3) of: create and time the cold boot; stop, time the wake (a boot); suspend, time the wake (a resume from
# the machine's snapshot); delete. The medians and every round are printed.
# Guests run under TCG on a host without usable KVM: expect guest-bound figures there.
# Run as root after building (./mvnw -q -DskipTests package). Leaves nothing behind: the machines are deleted, then
# `bolero up` is stopped, its devices, link and tables deleted, the registry stopped and the work directory removed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
rounds="${ROUNDS:-3}"
find_java
[[ -f "$BOLERO_HOME/cli/target/bolero-cli.jar" ]] || build

id=$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')
work=$(mktemp -d /tmp/bolero-bench-wake.XXXXXX)
up_pid="" reg_pid="" api="" admin="" machine="" agent_port=""
call() { curl -sf -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' "$@"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
cleanup() {
  set +e
  if [[ -n $machine && -n $admin ]]; then
    call -X DELETE "$api/v1/namespaces/alpha/machines/$machine" >/dev/null
    for _ in $(seq 100); do call "$api/v1/namespaces/alpha/machines/$machine" >/dev/null 2>&1 || break; sleep 0.3; done
  fi
  # the node's machines, then bolero up, then what an agent leaves for its next start: devices and tables
  cleanup_network_bench "$agent_port" "w$id" "bolero_w$id" "" "" ${up_pid:+"$up_pid"}
  [[ -z $reg_pid ]] || { kill "$reg_pid" 2>/dev/null; wait "$reg_pid" 2>/dev/null; }
  [[ -n "${KEEP:-}" ]] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT

start_registry "$work"
image="127.0.0.1:$reg_port/bench/wake:1"
"$BOLERO_HOME/scripts/build-image.sh" "$image" --cmd sh --cmd -c \
  --cmd 'mkdir -p /www; hostname > /www/index.html; exec httpd -f -p 8080 -h /www' >/dev/null

server_port=$(free_port) agent_port=$(free_port) gateway_port=$(free_port)
domain="wake.bench.test"
# XDG_CONFIG_HOME: `bolero up` stores its admin token for the CLI in a config file, which must not be the caller's.
XDG_CONFIG_HOME="$work/config" setsid "$BOLERO_HOME/bin/bolero" up --data-dir "$work/data" --listen "127.0.0.1:$server_port" \
  --agent-listen "127.0.0.1:$agent_port" --gateway-listen "127.0.0.1:$gateway_port" --domain "$domain" \
  --network-device-prefix "w$id" --nft-table "bolero_w$id" \
  >"$work/up.log" 2>&1 &
up_pid=$!
await_up "$up_pid" "$work/up.log"
api="http://127.0.0.1:$server_port"
admin=$(sed -nE "s/^admin token \(shown once.*\): (.*)$/\1/p" "$work/up.log")
[[ -n $admin ]] || { cat "$work/up.log" >&2; echo "bolero up printed no admin token" >&2; exit 1; }

call "$api/v1/namespaces" -d '{"name": "alpha"}' >/dev/null
call "$api/v1/namespaces/alpha/fleets" -d "{\"name\": \"web\", \"config\": {\"image\": \"$image\",
  \"guest\": {\"cpus\": 1, \"memory_mb\": 256}, \"http_service\": {\"internal_port\": 8080, \"auto_start\": true}}}" >/dev/null

now() { date +%s%N; }
# first_answer DEADLINE_S: asks the gateway for the fleet until it answers 200 (each ask may be held by the gateway);
# prints nothing, fails past the deadline.
first_answer() {
  local until=$(($(date +%s) + $1))
  while (($(date +%s) < until)); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 60 -H "Host: web.alpha.$domain" \
      "http://127.0.0.1:$gateway_port/") == 200 ]] && return 0
    sleep 0.05
  done
  echo "no answer through the gateway within $1 s; see $work/up.log" >&2
  return 1
}
await_state() {
  for _ in $(seq 600); do
    [[ $(call "$api/v1/namespaces/alpha/machines/$machine" | field '["state"]') == "$1" ]] && return 0
    sleep 0.2
  done
  echo "machine $machine never reached $1" >&2
  return 1
}

echo "wake benchmark: $(nproc) cores, $(grep -qE 'vmx|svm' /proc/cpuinfo && echo kvm-capable || echo tcg) host, $rounds rounds, load average $(cut -d' ' -f1-3 /proc/loadavg)"
colds=() wakes=() resumes=()
for round in $(seq "$rounds"); do
  t=$(now)
  machine=$(call "$api/v1/namespaces/alpha/fleets/web/machines" -d '{"start": true}' | field '["id"]')
  first_answer 120
  colds+=($((($(now) - t) / 1000000)))
  call -X POST "$api/v1/namespaces/alpha/machines/$machine/stop" >/dev/null
  await_state stopped
  t=$(now)
  first_answer 120
  wakes+=($((($(now) - t) / 1000000)))
  [[ $(call "$api/v1/namespaces/alpha/machines/$machine" | field '["state"]') == running ]] ||
    { echo "the answered request did not leave machine $machine running" >&2; exit 1; }
  call -X POST "$api/v1/namespaces/alpha/machines/$machine/suspend" >/dev/null
  await_state suspended
  t=$(now)
  first_answer 120
  resumes+=($((($(now) - t) / 1000000)))
  call -X DELETE "$api/v1/namespaces/alpha/machines/$machine" >/dev/null
  for _ in $(seq 300); do call "$api/v1/namespaces/alpha/machines/$machine" >/dev/null 2>&1 || break; sleep 0.2; done
  machine=""
  echo "round $round: cold boot ${colds[-1]} ms, wake from stopped ${wakes[-1]} ms, from suspended ${resumes[-1]} ms"
done
median() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
cold=$(median "${colds[@]}")
printf '%-66s %7s ms\n' "cold boot: create (start: true) to first answer (baseline)" "$cold"
for row in "stopped:$(median "${wakes[@]}")" "suspended (resumed from its snapshot):$(median "${resumes[@]}")"; do
  printf '%-66s %7s ms   (%.2f x the cold boot)\n' "wake on request: ${row%:*} to the held request's answer" "${row##*:}" \
    "$(awk -v a="${row##*:}" -v b="$cold" 'BEGIN {print a / b}')"
done
