#!/usr/bin/env bash
# Volume I/O benchmark (issue 16): fio inside a guest on a volume (a sparse ext4 file on the node, attached as a
# virtio-blk drive) beside the same jobs in the same guest on its root drive (a qcow2 overlay over the image's shared
# drive), and on the host's disk (the agent's data directory) as the baseline, all in the same run. Jobs (fio 3.33,
# psync, direct I/O, queue depth 1, RUNTIME seconds each, default 8, on a SIZE_MB file, default 256): sequential read
# and write in 1 MiB blocks, random read and write in 4 KiB blocks. Prints MiB/s and IOPS per job and target, and each
# guest figure as a share of the host's. QEMU opens the drives with the host's page cache (its default), so a guest's
# direct reads of data the host has cached can beat the host's own direct reads of its disk: compare writes and random
# reads, and read sequential figures as an upper bound.
# fio runs inside the guest: the image is busybox plus Debian's fio binary and the shared libraries it links (found
# with ldd), built here with umoci and pushed to a local docker-registry. The machine's workload runs every job and
# prints one line per job (`FIO <target> <job> <json>`), read back through the control plane's logs API.
# Then the move of a 1 GiB volume (MOVE_FILL_MB of random data, default 900, written by a second machine) to a second
# agent of the same control plane (another data directory on the same disk, joined over loopback): `bolero volumes
# move` from its start to its end (pass 1 while the machine runs, its stop, the final pass, verification, the
# machine started on the target), with the machine's downtime (stopped to started, boot excluded), beside a plain
# `cp` of the same volume file (then sync) on the same disk measured in the same run: the move's floor.
# Then a snapshot of that volume while its machine runs (the guest freezes the file system for the node's copy) and
# its ship to the other node (the move's verified block stream): `POST …/snapshots` to its copy verified there.
# Runs `bolero up` (server and agent in one process, SQLite, --no-network). Run as root after building
# (./mvnw -q -DskipTests package). Needs: fio (installed when missing), umoci, skopeo, docker-registry, busybox-static.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
runtime="${RUNTIME:-8}"
size_mb="${SIZE_MB:-256}"
install_missing fio
for tool in umoci skopeo docker-registry fio ldd python3 curl; do
  command -v "$tool" >/dev/null || { echo "volumes.sh: $tool is not installed" >&2; exit 2; }
done
[[ -x /bin/busybox ]] || { echo "volumes.sh: install busybox-static" >&2; exit 2; }
find_java
[[ -f "$BOLERO_HOME/cli/target/bolero-cli.jar" ]] || build

work=$(mktemp -d /tmp/bolero-bench-volumes.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pkill -KILL -f "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The jobs: NAME and fio arguments; the same for every target.
jobs=(
  "seq-read:--rw=read --bs=1M"
  "seq-write:--rw=write --bs=1M"
  "rand-read:--rw=randread --bs=4k"
  "rand-write:--rw=randwrite --bs=4k"
)
# fio_all TARGET_LABEL DIR: every job on DIR, one FIO line each (what the guest's workload and the host run alike)
fio_script() {
  local script="" job
  for job in "${jobs[@]}"; do
    script+="fio --name=${job%%:*} --filename=\$2/fio.dat --size=${size_mb}M --ioengine=psync --direct=1 --iodepth=1"
    script+=" --time_based --runtime=$runtime --output-format=json ${job#*:} --output=/tmp/fio.json >/dev/null 2>&1"
    script+=" && echo \"FIO \$1 ${job%%:*} \$(tr -d '\\n' </tmp/fio.json)\" || echo \"FIO \$1 ${job%%:*} failed\"; "
  done
  printf '%s' "$script"
}

# --- the guest image: busybox and fio ------------------------------------------------------------------------------
tree="$work/tree"
mkdir -p "$tree"/{bin,tmp,root,proc,sys,dev,etc,data,bench}
cp /bin/busybox "$tree/bin/busybox"
for applet in $("$tree/bin/busybox" --list); do [[ -e "$tree/bin/$applet" ]] || ln -s busybox "$tree/bin/$applet"; done
fio_bin=$(command -v fio)
mkdir -p "$tree/usr/bin" && cp "$fio_bin" "$tree/usr/bin/fio"
for lib in $(ldd "$fio_bin" | grep -o '/[^ ]*'); do
  mkdir -p "$tree$(dirname "$lib")" && cp -L "$lib" "$tree$lib"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$tree/etc/passwd"
printf 'root:x:0:\n' >"$tree/etc/group"
chmod 1777 "$tree/tmp"
{
  echo '#!/bin/sh'
  echo 'run() {'
  fio_script
  echo '}'
  echo 'run volume /data; run root /bench; rm -f /data/fio.dat /bench/fio.dat; echo BENCH-DONE; exec sleep 3600'
} >"$tree/bench.sh"
chmod 755 "$tree/bench.sh"
umoci init --layout "$work/layout" >/dev/null
umoci new --image "$work/layout:fio"
umoci unpack --image "$work/layout:fio" "$work/bundle" >/dev/null
rsync -aH "$tree/" "$work/bundle/rootfs/" 2>/dev/null || cp -a "$tree/." "$work/bundle/rootfs/"
umoci repack --image "$work/layout:fio" "$work/bundle" >/dev/null
umoci config --image "$work/layout:fio" --config.entrypoint /bench.sh >/dev/null
start_registry "$work"
pids+=("$reg_pid")
image="127.0.0.1:$reg_port/bench/fio:1"
skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$work/layout:fio" "docker://$image"

# --- the cluster ---------------------------------------------------------------------------------------------------
port=$(free_port)
agent_port=$(free_port)
XDG_CONFIG_HOME="$work/config" "$BOLERO_HOME/bin/bolero" up --data-dir "$work/up" --listen "127.0.0.1:$port" --agent-listen "127.0.0.1:$agent_port" \
  --no-network >"$work/up.log" 2>&1 &
pids+=($!)
url="http://127.0.0.1:$port"
for _ in $(seq 300); do [[ -s "$work/up/server/admin.token" ]] && curl -sf "$url/readyz" >/dev/null && break; sleep 0.2; done
token=$(cat "$work/up/server/admin.token")
api() { curl -sS -X "$1" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$url$2" ${3:+-d "$3"}; }
for _ in $(seq 300); do [[ $(api GET /v1/nodes) == *'"ready"'* ]] && break; sleep 0.2; done
api POST /v1/namespaces/default/fleets '{"name": "bench"}' >/dev/null
api POST /v1/namespaces/default/volumes '{"name": "bench", "size_gb": 2}' >/dev/null
id=$(api POST /v1/namespaces/default/fleets/bench/machines "{\"name\": \"fio\", \"start\": true, \"config\": {\"image\": \"$image\", \"guest\": {\"cpus\": 1, \"memory_mb\": 512, \"rootfs_mb\": 1024}, \"mounts\": [{\"volume\": \"bench\", \"path\": \"/data\"}]}}" \
  | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("id") or sys.exit("create: %s" % d))')

echo "volume benchmark: fio $(fio --version) on $(nproc) cores, accelerator: $(grep -qE 'vmx|svm' /proc/cpuinfo && echo kvm-capable || echo tcg), $size_mb MiB files, ${runtime} s per job, psync, direct, QD1"
# the host baseline first, while the guest boots (each on its own: the guest's jobs run only after)
host_dir="$work/up/agent/bench-host"
mkdir -p "$host_dir"
bash -c "run() { $(fio_script) }; run host $host_dir" >"$work/host.out"
rm -f "$host_dir/fio.dat"
for _ in $(seq 1800); do
  api GET "/v1/namespaces/default/machines/$id/logs" >"$work/guest.out" || true
  grep -q BENCH-DONE "$work/guest.out" && break
  sleep 1
done
grep -q BENCH-DONE "$work/guest.out" || { echo "the guest did not finish; its logs:" >&2; cat "$work/guest.out" >&2; exit 1; }
python3 - "$work/host.out" "$work/guest.out" <<'EOF'
import json, sys
rows = {}
for path in sys.argv[1:]:
    for line in open(path, errors="replace"):
        i = line.find("FIO ")
        if i < 0:
            continue
        _, target, job, rest = line[i:].strip().split(" ", 3)
        if rest == "failed":
            rows[(target, job)] = None
            continue
        j = json.loads(rest)["jobs"][0]
        side = j["read"] if "read" in job else j["write"]
        rows[(target, job)] = (side["bw_bytes"] / 2**20, side["iops"])
jobs = ["seq-read", "seq-write", "rand-read", "rand-write"]
print(f"{'job':<11} | {'host MiB/s':>11} {'IOPS':>8} | {'volume MiB/s':>12} {'IOPS':>8} {'vs host':>8} | {'root MiB/s':>10} {'IOPS':>8} {'vs host':>8}")
for job in jobs:
    host = rows.get(("host", job))
    cells = [f"{job:<11}", f"{host[0]:>11.1f} {host[1]:>8.0f}" if host else f"{'failed':>20}"]
    for target, width in (("volume", 12), ("root", 10)):
        r = rows.get((target, job))
        if r is None:
            cells.append(f"{'failed':>{width + 18}}")
        else:
            share = f"{100 * r[1] / host[1]:.0f}%" if host and host[1] else "-"
            cells.append(f"{r[0]:>{width}.1f} {r[1]:>8.0f} {share:>8}")
    print(" | ".join(cells))
EOF

# --- the move of a 1 GiB volume to a second node ------------------------------------------------------------------
fill_mb="${MOVE_FILL_MB:-900}"
agent2_port=$(free_port)
"$BOLERO_HOME/bin/bolero" agent --listen "127.0.0.1:$agent2_port" --data-dir "$work/agent2" --server "$url" \
  --join-token "$(cat "$work/up/server/join.token")" --node-name bench-2 --no-network >"$work/agent2.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do [[ $(api GET /v1/nodes | grep -o '"ready"' | wc -l) -ge 2 ]] && break; sleep 0.2; done
api POST /v1/namespaces/default/volumes '{"name": "moving", "size_gb": 1}' >/dev/null
fill="head -c $((fill_mb * 1048576)) /dev/urandom > /data/fill && sync && echo FILLED; while true; do date >> /data/ticks; sync; sleep 1; done"
filler=$(api POST /v1/namespaces/default/fleets/bench/machines "{\"name\": \"filler\", \"start\": true, \"config\": {\"image\": \"$image\", \"init\": {\"entrypoint\": [\"sh\", \"-c\", \"$fill\"]}, \"guest\": {\"cpus\": 1, \"memory_mb\": 256}, \"mounts\": [{\"volume\": \"moving\", \"path\": \"/data\"}]}}" \
  | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("id") or sys.exit("create: %s" % d))')
for _ in $(seq 1800); do
  api GET "/v1/namespaces/default/machines/$filler/logs" | grep -q FILLED && break
  sleep 1
done
api GET "/v1/namespaces/default/machines/$filler/logs" | grep -q FILLED || { echo "the filler did not finish" >&2; exit 1; }
vol_id=$(api GET /v1/namespaces/default/volumes/moving | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
vol_file=$(find "$work/up" -name "$vol_id.ext4" | head -1)
[[ -f "$vol_file" ]] || { echo "volumes.sh: volume file $vol_id.ext4 not found under $work/up" >&2; exit 1; }
sync
cp_start=$(date +%s.%N)
cp "$vol_file" "$work/cp-copy.ext4" && sync
cp_end=$(date +%s.%N)
rm -f "$work/cp-copy.ext4"
move_start=$(date +%s.%N)
api POST /v1/namespaces/default/volumes/moving/move '{}' >"$work/move.json"
move_id=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get("id") or sys.exit("move: %s" % d))' "$work/move.json")
ended() {
  python3 -c 'import json,sys; m=[m for m in json.load(open(sys.argv[1])) if m["id"]==sys.argv[2]][0]; sys.exit(0 if m["state"] in ("done","failed") else 1)' "$@"
}
for _ in $(seq 3600); do
  api GET /v1/namespaces/default/volumes/moving/moves >"$work/moves.json"
  ended "$work/moves.json" "$move_id" && break
  sleep 0.2
done
move_end=$(date +%s.%N)
python3 - "$work/moves.json" "$move_id" "$cp_start" "$cp_end" "$move_start" "$move_end" "$fill_mb" <<'EOF'
import json, sys
from datetime import datetime
moves, move_id, cp_start, cp_end, move_start, move_end, fill_mb = sys.argv[1:]
m = [m for m in json.load(open(moves)) if m["id"] == move_id][0]
def when(text):
    return next((datetime.fromisoformat(s["at"].replace("Z", "+00:00")).timestamp() for s in m["steps"]
                 if text in s["message"]), None)
print()
print(f"move of a 1 GiB volume holding {fill_mb} MiB of random data between two nodes on this host "
      f"({m['state']}{': ' + m['error'] if m.get('error') else ''}):")
for s in m["steps"]:
    print(f"  {s['at']}  {s['message']}")
print(f"{'plain cp + sync of the volume file':<50} {float(cp_end) - float(cp_start):>8.2f} s")
print(f"{'volumes move, POST to done':<50} {float(move_end) - float(move_start):>8.2f} s")
stopping, started = when("stopping for the final pass"), when("started on node")
if stopping and started:
    print(f"{'machine downtime (stopping to started, boot excluded)':<50} {started - stopping:>8.2f} s")
EOF
# --- a snapshot of the moved volume, shipped back to the first node ------------------------------------------------
snap_start=$(date +%s.%N)
api POST /v1/namespaces/default/volumes/moving/snapshots >"$work/snap.json"
snap_id=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get("id") or sys.exit("snapshot: %s" % d))' "$work/snap.json")
copied() {
  python3 -c 'import json,sys; s=[s for s in json.load(open(sys.argv[1])) if s["id"]==sys.argv[2]][0]; sys.exit(0 if s["copies"] and s["copies"][0]["state"] in ("verified","failed") else 1)' "$@"
}
for _ in $(seq 3600); do
  api GET /v1/namespaces/default/volumes/moving/snapshots >"$work/snaps.json"
  copied "$work/snaps.json" "$snap_id" && break
  sleep 0.2
done
snap_end=$(date +%s.%N)
python3 - "$work/snaps.json" "$snap_id" "$snap_start" "$snap_end" <<'EOF'
import json, sys
snaps, snap_id, start, end = sys.argv[1:]
s = [s for s in json.load(open(snaps)) if s["id"] == snap_id][0]
c = s["copies"][0] if s["copies"] else {"state": "none", "node_id": "-"}
print(f"{'snapshot (frozen) + ship to node ' + c['node_id'] + ': ' + c['state']:<50} {float(end) - float(start):>8.2f} s")
EOF
