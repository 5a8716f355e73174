#!/usr/bin/env bash
# Snapshot benchmark (issue 15): the time from POST …/start to the first answer of a machine's web server, booting
# cold (after a stop) against resuming (after a suspend), over RUNS interleaved runs (default 3) of one machine; plus
# how long the suspend took and the size of its state file. Goal: resume at least 10x faster than the cold boot.
# Then a fork of FORK clones (default 5) on a second, standalone agent (a cluster node offers the scheduler one vCPU
# per host CPU, too few here for 5 clones beside their source): a machine booted cold there, then POST …/fork, the
# time until every clone's web server answers on the clone's own address, and each clone's PSS against the cold
# machine's (goal: at most half). Then warm starts on that agent: a machine with warm_start booted cold leaves a
# template; RUNS more of the same image and config are timed from create to first answer (goal: at least 5x faster than
# the cold start).
# The agent is a node of a control plane (a server on loopback) that owns the machine: the node API's suspend and
# start are measured, and the same through the server (POST /v1/…/suspend until the server reports it suspended;
# POST /v1/…/start to the first answer), which adds the assignment's long poll and the heartbeat.
# Run as root after building (./mvnw -q -DskipTests package). The guest is busybox httpd in a microVM reached on a
# published port (under TCG here). The agent runs with AGENT_FLAGS (default none: jailed when root).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
runs="${RUNS:-3}"
clones="${FORK:-5}"
find_java
[[ -f "$BOLERO_HOME/cli/target/bolero-cli.jar" ]] || build

id=$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')
work=$(mktemp -d /tmp/bolero-bench-snap.XXXXXX)
# PUBLISH, POOL and FORK_POOL let two runs on one host (other worktrees) keep off each other's addresses.
netns="bsu$id" veth="bsv$id" prefix="s$id" table="bolero_s$id" pool="${POOL:-10.198.0.0/16}"
publish="${PUBLISH:-198.18.252.1}"
fork_prefix="f$id" fork_table="bolero_f$id" fork_pool="${FORK_POOL:-10.197.0.0/16}"
pids=() agent_port="" server="" fork_port=""
cleanup() {
  if [[ -n $server ]]; then
    # Through the server, or the agent would create its machine again; the agent then removes it.
    for m in $(call "$server/machines" | python3 -c 'import json,sys; [print(m["id"]) for m in json.load(sys.stdin)]' \
      2>/dev/null); do call -X DELETE "$server/machines/$m" >/dev/null || true; done
    for _ in $(seq 150); do [[ $(curl -s "http://127.0.0.1:$agent_port/api/v1/machines") == "[]" ]] && break; sleep 0.2; done
  fi
  # The fork agent's machines first (their VMMs outlive it), then it with the rest, then its devices and table.
  [[ -n $fork_port ]] && cleanup_network_bench "$fork_port" "$fork_prefix" "$fork_table" "" ""
  cleanup_network_bench "$agent_port" "$prefix" "$table" "$netns" "$veth" "${pids[@]}"
  [[ -n $fork_port ]] && cleanup_network_bench "" "$fork_prefix" "$fork_table" "" ""
  rm -rf "$work"
}
trap cleanup EXIT

# An address to publish on: a veth to a throw-away namespace.
publish_veth "$netns" "$veth" "$publish"

start_registry "$work"
pids+=("$reg_pid")
image="127.0.0.1:$reg_port/bench/snap:1"
"$BOLERO_HOME/scripts/build-image.sh" "$image" --cmd httpd --cmd -f --cmd -p --cmd 8080 --cmd -h --cmd /www \
  --file "/www/index.html=up" >/dev/null

server_port=$(free_port)
admin="bench-admin-$id-0123456789abcdef" join="bench-join-$id-0123456789abcdef"
BOLERO_ADMIN_TOKEN=$admin BOLERO_JOIN_TOKEN=$join "$BOLERO_HOME/bin/bolero" server \
  --listen "127.0.0.1:$server_port" --data-dir "$work/server" >"$work/server.log" 2>&1 &
pids+=($!)
call() { curl -sf -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' "$@"; }
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$server_port/v1/openapi.json" >/dev/null && break; sleep 0.2; done

agent_port=$(free_port)
# shellcheck disable=SC2086
"$BOLERO_HOME/bin/bolero" agent --listen "127.0.0.1:$agent_port" --data-dir "$work/data" --network-pool "$pool" \
  --publish-address "$publish" --network-device-prefix "$prefix" --nft-table "$table" \
  --server "http://127.0.0.1:$server_port" --join-token "$join" --node-name bench ${AGENT_FLAGS:-} \
  >"$work/agent.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$agent_port/api/v1/machines" >/dev/null && break; sleep 0.2; done
api="http://127.0.0.1:$agent_port/api/v1/machines"
call "http://127.0.0.1:$server_port/v1/namespaces" -d '{"name": "alpha"}' >/dev/null
call "http://127.0.0.1:$server_port/v1/namespaces/alpha/fleets" -d '{"name": "bench"}' >/dev/null
server="http://127.0.0.1:$server_port/v1/namespaces/alpha"

pub_port=$(free_port)
machine=$(call "$server/fleets/bench/machines" -d \
  "{\"name\": \"bench\", \"start\": true, \"config\": {\"image\": \"$image\", \"guest\": {\"memory_mb\": 256}, \"services\": [{\"protocol\": \"tcp\", \"internal_port\": 8080, \"port\": $pub_port}]}}" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
for _ in $(seq 300); do curl -sf "$api/$machine" >/dev/null && break; sleep 0.2; done

now() { date +%s.%N; }
# Seconds from T0 until the web server on HOST:PORT (default: the published port) answers "up", measured by
# first-answer.py: a new connection every 10 ms (a SYN sent before the VM is there is lost, and the kernel would resend
# it only after a second); fails after 300 s.
until_answer() {
  python3 "$BOLERO_HOME/bench/first-answer.py" "${2:-$publish}" "${3:-$pub_port}" up "$1" 300 \
    || { tail -20 "$work/agent.log" >&2; exit 1; }
}
wait_state() { curl -sf "$api/$machine/wait?state=$1&timeout_s=300" >/dev/null; }
wait_server() { call "$server/machines/$machine/wait?state=$1&timeout_s=300" >/dev/null; }
# The proportional set size of a machine's VMM on the fork agent, in MiB (its pid from the machine's directory).
pss_mib() { awk '/^Pss:/ {print int($2 / 1024)}' "/proc/$(cat "$work/fork/machines/$1/vmm.pid")/smaps_rollup"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

until_answer "$(now)" >/dev/null # the first boot pulls the image: not measured
cold=() resume=() suspend=() size=0 ram_kib=0 resume_server=() suspend_server=()
for _ in $(seq "$runs"); do
  curl -sf -X POST "$api/$machine/stop" >/dev/null && wait_state stopped
  t0=$(now); curl -sf -X POST "$api/$machine/start" >/dev/null; cold+=("$(until_answer "$t0")")
  t0=$(now); curl -sf -X POST "$api/$machine/suspend" >/dev/null; suspend+=("$(echo "$(now) - $t0" | bc)")
  size=$(stat -c %s "$work/data/machines/$machine/snapshot/qemu-state")
  ram_kib=$(du -k "$work/data/machines/$machine/snapshot/qemu-memory" 2>/dev/null | cut -f1 || echo 0)
  t0=$(now); curl -sf -X POST "$api/$machine/start" >/dev/null; resume+=("$(until_answer "$t0")")
  wait_state running # it answers before the agent has it running: a suspend would wait for that
  t0=$(now); call -X POST "$server/machines/$machine/suspend" >/dev/null && wait_server suspended
  suspend_server+=("$(echo "$(now) - $t0" | bc)")
  t0=$(now); call -X POST "$server/machines/$machine/start" >/dev/null; resume_server+=("$(until_answer "$t0")")
done
# Fork, on a standalone agent: a machine booted cold, forked into $clones clones, to every clone's first answer on its
# own address.
fork_port=$(free_port)
"$BOLERO_HOME/bin/bolero" agent --listen "127.0.0.1:$fork_port" --data-dir "$work/fork" --network-pool "$fork_pool" \
  --publish-address "$publish" --network-device-prefix "$fork_prefix" --nft-table "$fork_table" ${AGENT_FLAGS:-} \
  >"$work/fork-agent.log" 2>&1 &
pids+=($!)
fork_api="http://127.0.0.1:$fork_port/api/v1/machines"
for _ in $(seq 300); do curl -sf "$fork_api" >/dev/null && break; sleep 0.2; done
# The address of machine $1 on the fork agent, once it has one.
fork_ip() {
  for _ in $(seq 3000); do
    ip=$(curl -s "$fork_api/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("ip") or "")' || true)
    [[ -n $ip ]] && { echo "$ip"; return; }; sleep 0.01
  done
}
source_id=$(curl -sf -H 'Content-Type: application/json' "$fork_api" -d "{\"name\": \"source\", \"start\": true, \"config\": {\"image\": \"$image\", \"guest\": {\"memory_mb\": 256}}}" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
t0=$(now); fork_cold=$(until_answer "$t0" "$(fork_ip "$source_id")" 8080)
sleep 2; pss_cold=$(pss_mib "$source_id") # settled after its first answer
t0=$(now)
answer=$(curl -s -H 'Content-Type: application/json' -X POST "$fork_api/$source_id/fork" -d "{\"count\": $clones}")
ids=$(python3 -c 'import json,sys; [print(m["id"]) for m in json.load(sys.stdin)]' <<<"$answer") \
  || { echo "fork: $answer" >&2; exit 1; }
for clone in $ids; do until_answer "$t0" "$(fork_ip "$clone")" 8080 >/dev/null; done
forked=$(echo "$(now) - $t0" | bc)
sleep 2
pss_clones=() pss_sum=0
for clone in $ids; do p=$(pss_mib "$clone"); pss_clones+=("$p"); pss_sum=$((pss_sum + p)); done
pss_source=$(pss_mib "$source_id")

# Templates (warm starts), on the fork agent once its machines are gone: a machine with warm_start boots cold and
# leaves a template once its web server is up; then RUNS machines of the same image and config, each timed from its
# create to its first answer on its own address (each deleted before the next).
for m in $ids "$source_id"; do curl -s -X DELETE "$fork_api/$m?force=true" >/dev/null; done
# Creates and starts machine $1 with warm_start on the fork agent; prints its id and address, read from the answer
# with sed (a python3 per call costs seconds on a loaded host, inside the timed span).
warm_create() {
  local m id ip
  m=$(curl -sf -H 'Content-Type: application/json' "$fork_api" -d "{\"name\": \"$1\", \"start\": true, \"config\": {\"image\": \"$image\", \"guest\": {\"memory_mb\": 256}, \"warm_start\": true}}")
  id=$(sed -E 's/^\{"id":"([^"]*)".*/\1/' <<<"$m")
  ip=$(sed -nE 's/.*"ip":"([0-9.]+)".*/\1/p' <<<"$m")
  echo "$id ${ip:-$(fork_ip "$id")}"
}
t0=$(now); read -r warm warm_ip <<<"$(warm_create warm-0)"; warm_cold=$(until_answer "$t0" "$warm_ip" 8080)
for _ in $(seq 1500); do curl -s "$fork_api/$warm/events" | grep -q template_taken && break; sleep 0.2; done
sleep 2 # the source settles after the save (under TCG it translates its code afresh), as the cold baseline's machine is
template_mib=$(curl -s "http://127.0.0.1:$fork_port/api/v1/templates" \
  | python3 -c 'import json,sys; t=json.load(sys.stdin); print(t[0]["bytes"] >> 20 if t else "none")')
[[ $template_mib != none ]] || { echo "no template was taken" >&2; tail -20 "$work/fork-agent.log" >&2; exit 1; }
warm_runs=()
for i in $(seq "$runs"); do
  t0=$(now); read -r w w_ip <<<"$(warm_create "warm-$i")"; warm_runs+=("$(until_answer "$t0" "$w_ip" 8080)")
  curl -s "$fork_api/$w/events" | grep -q started_from_template \
    || { echo "warm-$i did not start from the template" >&2; exit 1; }
  curl -s -X DELETE "$fork_api/$w?force=true" >/dev/null
done

c=$(printf '%s\n' "${cold[@]}" | median) r=$(printf '%s\n' "${resume[@]}" | median)
s=$(printf '%s\n' "${suspend[@]}" | median)
rs=$(printf '%s\n' "${resume_server[@]}" | median) ss=$(printf '%s\n' "${suspend_server[@]}" | median)
echo "snapshot benchmark: $runs interleaved runs on $(nproc) cores, accelerator: $(grep -qE 'vmx|svm' /proc/cpuinfo && echo kvm-capable || echo tcg), guest 256 MiB"
printf '%-44s median %7.3f s   (runs: %s)\n' "cold start -> first HTTP answer (baseline)" "$c" "${cold[*]}"
printf '%-44s median %7.3f s   (runs: %s)\n' "resume -> first HTTP answer" "$r" "${resume[*]}"
printf '%-44s %7.1fx faster (goal: at least 10x)\n' "resume against cold start" "$(echo "$c / $r" | bc -l)"
printf '%-44s median %7.3f s   state file %d MiB, RAM image %d MiB on disk\n' "suspend (save state, end VMM)" "$s" \
  "$((size >> 20))" "$((ram_kib >> 10))"
printf '%-44s median %7.3f s   (runs: %s)\n' "resume via the server -> first HTTP answer" "$rs" "${resume_server[*]}"
printf '%-44s median %7.3f s   (runs: %s)\n' "suspend via the server -> reported" "$ss" "${suspend_server[*]}"
printf '%-44s %7.3f s   (pulls the image first: not a cold-start figure)\n' "fork agent: create -> first HTTP answer" \
  "$fork_cold"
printf '%-44s %7.3f s   (%d clones, each answering on its own address)\n' "fork -> every clone's first HTTP answer" \
  "$forked" "$clones"
printf '%-44s %7d MiB (PSS of the source, 2 s after its cold boot answered)\n' "cold machine (baseline)" "$pss_cold"
printf '%-44s %7d MiB average (clones: %s; the source now: %s)\n' "PSS per clone" "$((pss_sum / clones))" \
  "${pss_clones[*]}" "$pss_source"
printf '%-44s %7.2f of a cold machine (goal: at most 0.5)\n' "clone against cold machine" \
  "$(echo "$pss_sum / $clones / $pss_cold" | bc -l)"
w=$(printf '%s\n' "${warm_runs[@]}" | median)
printf '%-44s %7.3f s   (no template yet: it boots, then leaves one of %s MiB)\n' \
  "warm_start create -> first HTTP answer, cold" "$warm_cold" "$template_mib"
printf '%-44s median %7.3f s   (runs: %s)\n' "template create+start -> first HTTP answer" "$w" "${warm_runs[*]}"
printf '%-44s %7.1fx faster (goal: at least 5x; %.1fx against the cold create)\n' "template start against cold start" \
  "$(echo "$c / $w" | bc -l)" "$(echo "$warm_cold / $w" | bc -l)"
