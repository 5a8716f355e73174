#!/usr/bin/env bash
# Image benchmark (issue 3): cold pull-and-prepare of a ~100 MB Debian minbase + lighttpd image from a local
# docker-registry through the agent (POST /api/v1/images/pull, returns when the root drive is ready), beside the
# same job done by `skopeo copy` + `umoci unpack` + `mkfs.ext4 -d`, interleaved over RUNS runs (default 3), then the
# time of a second prepare of the same image (what a second machine of that image costs in image work).
# The rootfs is made once with debootstrap (needs the Debian mirror) and cached in /var/cache/bolero-bench.
# Run as root after building (./mvnw -q -DskipTests package). Needs: debootstrap umoci skopeo docker-registry.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
runs="${RUNS:-3}"
cache=/var/cache/bolero-bench
find_java
[[ -f "$BOLERO_HOME/cli/target/bolero-cli.jar" ]] || build
for tool in debootstrap umoci skopeo docker-registry mkfs.ext4; do
  command -v "$tool" >/dev/null || { echo "images.sh: $tool is not installed" >&2; exit 2; }
done

mkdir -p "$cache"
if [[ ! -d "$cache/minbase" ]]; then
  rm -rf "$cache/minbase.tmp"
  debootstrap --variant=minbase --include=lighttpd bookworm "$cache/minbase.tmp" http://deb.debian.org/debian >"$cache/debootstrap.log"
  mv "$cache/minbase.tmp" "$cache/minbase"
fi
if [[ ! -f "$cache/layout/index.json" ]]; then
  rm -rf "$cache/layout" "$cache/bundle"
  umoci init --layout "$cache/layout"
  umoci new --image "$cache/layout:web"
  umoci unpack --image "$cache/layout:web" "$cache/bundle" >/dev/null
  cp -a "$cache/minbase/." "$cache/bundle/rootfs/"
  rm -rf "$cache/bundle/rootfs/var/cache/apt/archives/"*.deb
  umoci repack --image "$cache/layout:web" "$cache/bundle"
  umoci config --image "$cache/layout:web" --config.entrypoint /usr/sbin/lighttpd \
    --config.cmd -D --config.cmd -f --config.cmd /etc/lighttpd/lighttpd.conf
  rm -rf "$cache/bundle"
fi

work=$(mktemp -d /tmp/bolero-bench-images.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_registry "$work"
pids+=("$reg_pid")
image="127.0.0.1:$reg_port/bench/web:1"
skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$cache/layout:web" "docker://$image"
layer_mb=$(du -sm "$work/registry" | cut -f1)
tree_mb=$(du -sm "$cache/minbase" | cut -f1)

port=$(free_port)
"$BOLERO_HOME/bin/bolero" agent --listen "127.0.0.1:$port" --data-dir "$work/agent" >"$work/agent.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/api/v1/images" >/dev/null && break; sleep 0.2; done

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
cold_start() { sync; echo 3 >/proc/sys/vm/drop_caches; }

pull() { # prints the image's digest
  curl -sS --fail-with-body -X POST -H "Content-Type: application/json" -d "{\"image\": \"$1\"}" "http://127.0.0.1:$port/api/v1/images/pull" \
    | python3 -c 'import json,sys; b=json.load(sys.stdin); print(b["digest"]) if "digest" in b else sys.exit(f"pull failed: {b}")'
}

pipeline() {
  local dir="$work/pipeline"
  rm -rf "$dir"; mkdir -p "$dir"
  skopeo --insecure-policy copy -q --src-tls-verify=false "docker://$image" "oci:$dir/layout:web"
  umoci unpack --image "$dir/layout:web" "$dir/bundle" >/dev/null
  local kb; kb=$(du -sk "$dir/bundle/rootfs" | cut -f1)
  mkfs.ext4 -q -F -d "$dir/bundle/rootfs" "$dir/rootfs.ext4" "$(( kb * 12 / 10 + 262144 + 16384 ))k" >/dev/null
}

echo "image benchmark: $image (${layer_mb} MB in the registry, ${tree_mb} MB unpacked), $runs interleaved runs on $(nproc) cores"
ours=(); theirs=()
for run in $(seq "$runs"); do
  curl -sf -X POST "http://127.0.0.1:$port/api/v1/images/gc?unused=true" >/dev/null
  cold_start; t=$(date +%s%N); digest=$(pull "$image"); ours+=("$(ms "$t")")
  cold_start; t=$(date +%s%N); pipeline; theirs+=("$(ms "$t")")
  echo "run $run: bolero ${ours[-1]} ms, skopeo+umoci+mkfs ${theirs[-1]} ms"
done
pull_ms() { # the request's own time, without the tools around it
  curl -sS --fail-with-body -o /dev/null -w '%{time_total}' -X POST -H "Content-Type: application/json" \
    -d "{\"image\": \"$1\"}" "http://127.0.0.1:$port/api/v1/images/pull" | python3 -c 'import sys; print(round(float(sys.stdin.read())*1000))'
}
again_tag=$(pull_ms "$image")
again_digest=$(pull_ms "${image%:*}@$digest")

grep -o 'built root drive.*' "$work/agent.log" | sed 's/^/agent: /' || true
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m_ours=$(median "${ours[@]}"); m_theirs=$(median "${theirs[@]}")
echo "cold pull-and-prepare, median of $runs: bolero ${m_ours} ms, skopeo+umoci+mkfs.ext4 ${m_theirs} ms, ratio $(python3 -c "print(f'{$m_theirs/$m_ours:.2f}')")x"
echo "second prepare of the same image (a second machine's image work, through the API): by tag ${again_tag} ms (one manifest request to the registry), by digest ${again_digest} ms"
