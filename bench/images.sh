#!/usr/bin/env bash
# Image benchmark (issues 3 and 19): cold pull-and-prepare of several images from a local docker-registry through the
# agent (POST /api/v1/images/pull, returns when the root drive is ready), beside the same job done by `skopeo copy` +
# `umoci unpack` + `mkfs.ext4 -d`, interleaved over RUNS runs (default 3) with the page cache dropped before each, then
# each image's ratio (the goal holds per image, not on average) and the time of a second prepare of the same image.
# Bolero's time is the API request as curl measures it (connect to last byte); each run also prints it measured around
# the curl process, whose own start from a dropped page cache costs ~0.1 s here, with its ratio in a column of its own.
# The images are built once and cached in /var/cache/bolero-bench, from Debian packages (debootstrap, apt in a chroot:
# needs the Debian mirror) and npm packages (needs the npm registry):
#   nginx   Debian bookworm minbase, then nginx: 2 layers
#   musl    busybox (static) and the musl loader, then a small app layer: 2 layers, stand-in for an Alpine-based image
#           (Alpine's mirror is unreachable from here)
#   large   minbase, python3, gcc, numpy, a layer deleting docs/man pages/locales (whiteouts), a layer installing git
#           and overwriting files: 6 layers
#   npm     busybox base, then an app with a large node_modules (~33,000 mostly small files): 2 layers
# The agent first pulls and deletes each image once (a long-running agent's JIT has compiled the pull path).
# IMAGES="nginx musl" picks some. Run as root after building (./mvnw -q -DskipTests package).
# Needs: debootstrap umoci skopeo docker-registry rsync npm busybox-static musl.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
runs="${RUNS:-3}"
images="${IMAGES:-nginx musl large npm}"
cache=/var/cache/bolero-bench
mirror=http://deb.debian.org/debian
for tool in debootstrap umoci skopeo docker-registry mkfs.ext4 rsync npm; do
  command -v "$tool" >/dev/null || { echo "images.sh: $tool is not installed" >&2; exit 2; }
done
[[ -x /bin/busybox && -e /lib/ld-musl-x86_64.so.1 ]] || { echo "images.sh: install busybox-static and musl" >&2; exit 2; }

# --- building the images (once) ------------------------------------------------------------------------------------
mkdir -p "$cache/debs" "$cache/stages"
base() {
  if [[ ! -d "$cache/stages/base" ]]; then
    rm -rf "$cache/stages/base.tmp"
    debootstrap --variant=minbase --cache-dir="$cache/debs" bookworm "$cache/stages/base.tmp" "$mirror" >"$cache/debootstrap.log"
    rm -rf "$cache/stages/base.tmp/var/cache/apt/archives/"*.deb
    mv "$cache/stages/base.tmp" "$cache/stages/base"
  fi
}
# stage NAME FROM COMMAND: a copy of stage FROM changed by COMMAND (run with the copy as its working directory)
stage() {
  local name=$1 from=$2 command=$3 dir="$cache/stages/$1"
  [[ -d "$dir" ]] && return 0
  rm -rf "$dir.tmp"
  cp -a "$cache/stages/$from" "$dir.tmp"
  (cd "$dir.tmp" && eval "$command") >"$cache/stage-$name.log" 2>&1 || { echo "building stage $name failed, see $cache/stage-$name.log" >&2; exit 1; }
  mv "$dir.tmp" "$dir"
}
apt_in() { # apt_in PACKAGES...: installs into the current directory's tree
  printf '#!/bin/sh\nexit 101\n' >usr/sbin/policy-rc.d && chmod 755 usr/sbin/policy-rc.d
  cp /etc/resolv.conf etc/resolv.conf
  chroot . apt-get -o Dir::Cache::archives=/var/cache/apt/archives update -q
  chroot . env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
  chroot . apt-get clean
  rm -f usr/sbin/policy-rc.d
}
busybox_base() {
  mkdir -p bin sbin lib etc tmp root proc sys dev usr/bin usr/sbin var/log
  cp /bin/busybox bin/busybox
  for applet in $(bin/busybox --list); do [[ -e "bin/$applet" ]] || ln -s busybox "bin/$applet"; done
  cp -L /lib/ld-musl-x86_64.so.1 lib/ld-musl-x86_64.so.1
  ln -s ld-musl-x86_64.so.1 lib/libc.musl-x86_64.so.1
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >etc/passwd
  printf 'root:x:0:\nnogroup:x:65534:\n' >etc/group
  chmod 1777 tmp
}
build_stages() {
  case $1 in
    nginx) base; stage nginx base 'apt_in nginx' ;;
    musl)
      [[ -d "$cache/stages/busybox" ]] || { mkdir -p "$cache/stages/busybox.tmp" && (cd "$cache/stages/busybox.tmp" && busybox_base) && mv "$cache/stages/busybox.tmp" "$cache/stages/busybox"; }
      stage musl-app busybox 'mkdir -p srv/www && printf "hello\n" >srv/www/index.html && bin/busybox --help >srv/www/help.txt' ;;
    large)
      base
      stage py base 'apt_in python3'
      stage gcc py 'apt_in gcc g++ make libc6-dev'
      stage numpy gcc 'apt_in python3-numpy python3-yaml'
      stage slim numpy 'rm -rf usr/share/doc/* usr/share/man/* usr/share/locale/* var/lib/apt/lists/*'
      stage git slim 'apt_in git && printf "slim\n" >etc/motd && echo "# tuned" >>etc/bash.bashrc' ;;
    npm)
      build_stages musl
      stage npm busybox 'mkdir -p app && cd app && npm init -y >/dev/null && npm install --no-audit --no-fund --ignore-scripts @mui/material @babel/core rxjs lodash date-fns@2 core-js webpack eslint jest typescript' ;;
  esac
}
layers_of() {
  case $1 in
    nginx) echo "base nginx" ;;
    musl) echo "busybox musl-app" ;;
    large) echo "base py gcc numpy slim git" ;;
    npm) echo "busybox npm" ;;
  esac
}
configure() { # configure NAME: the image's entrypoint and command
  local -a args
  case $1 in
    nginx) args=(--config.entrypoint /usr/sbin/nginx --config.cmd -g --config.cmd "daemon off;") ;;
    musl|npm) args=(--config.entrypoint /bin/httpd --config.cmd -f --config.cmd -h --config.cmd /srv/www) ;;
    large) args=(--config.entrypoint /usr/bin/python3 --config.cmd -m --config.cmd http.server) ;;
  esac
  umoci config --image "$cache/layout:$1" "${args[@]}"
}
# one tag per image in one OCI layout, each stage a layer (umoci computes the differences, deletions as whiteouts)
make_image() {
  local name=$1 bundle="$cache/bundle-$1" stage
  [[ -f "$cache/built-$name" ]] && return 0
  build_stages "$name"
  [[ -f "$cache/layout/index.json" ]] || umoci init --layout "$cache/layout"
  rm -rf "$bundle"
  umoci new --image "$cache/layout:$name"
  umoci unpack --image "$cache/layout:$name" "$bundle" >/dev/null
  for stage in $(layers_of "$name"); do
    rsync -aHAX --delete "$cache/stages/$stage/" "$bundle/rootfs/"
    umoci repack --refresh-bundle --image "$cache/layout:$name" "$bundle"
  done
  configure "$name"
  rm -rf "$bundle"
  touch "$cache/built-$name"
}
for name in $images; do make_image "$name"; done
[[ "${BUILD_ONLY:-}" == 1 ]] && exit 0
find_java
[[ -f "$BOLERO_HOME/cli/target/bolero-cli.jar" ]] || build

# --- measuring ------------------------------------------------------------------------------------------------------
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
declare -A layer_mb tree_mb layer_count
for name in $images; do
  before=$(du -sm "$work/registry" 2>/dev/null | cut -f1 || echo 0)
  skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$cache/layout:$name" "docker://127.0.0.1:$reg_port/bench/$name:1"
  layer_mb[$name]=$(( $(du -sm "$work/registry" | cut -f1) - before ))
  tree_mb[$name]=$(du -sm "$cache/stages/$(layers_of "$name" | awk '{print $NF}')" | cut -f1)
  layer_count[$name]=$(layers_of "$name" | wc -w)
done

port=$(free_port)
"$BOLERO_HOME/bin/bolero" agent --listen "127.0.0.1:$port" --data-dir "$work/agent" >"$work/agent.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/api/v1/images" >/dev/null && break; sleep 0.2; done

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
cold_start() { sync; echo 3 >/proc/sys/vm/drop_caches; }

pull() { # the response's body, parsed by digest_of after the clock stopped (a cold python3 takes a second), then a line
  # with the request's own time in seconds as curl measured it (from its connect to the last byte of the answer)
  curl -sS --fail-with-body -w '\n%{time_total}' -X POST -H "Content-Type: application/json" -d "{\"image\": \"$1\"}" \
    "http://127.0.0.1:$port/api/v1/images/pull"
}
seconds_to_ms() { python3 -c "import sys; print(round(float(sys.argv[1]) * 1000))" "$1"; }
digest_of() {
  python3 -c 'import json,sys; b=json.load(sys.stdin); print(b["digest"]) if "digest" in b else sys.exit(f"pull failed: {b}")' <<<"$1"
}

pipeline() {
  local image=$1 dir="$work/pipeline"
  rm -rf "$dir"; mkdir -p "$dir"
  skopeo --insecure-policy copy -q --src-tls-verify=false "docker://$image" "oci:$dir/layout:img"
  umoci unpack --image "$dir/layout:img" "$dir/bundle" >/dev/null
  local kb files; kb=$(du -sk "$dir/bundle/rootfs" | cut -f1); files=$(find "$dir/bundle/rootfs" | wc -l)
  # as many inodes as Bolero gives: mkfs's default ratio (one per 16 KiB) is too few for many small files
  mkfs.ext4 -q -F -d "$dir/bundle/rootfs" -N "$(( files * 5 / 4 + 16384 + 256 ))" "$dir/rootfs.ext4" "$(( kb * 12 / 10 + 262144 + 16384 ))k" >/dev/null
}
pull_ms() { # the request's own time, without the tools around it
  curl -sS --fail-with-body -o /dev/null -w '%{time_total}' -X POST -H "Content-Type: application/json" \
    -d "{\"image\": \"$1\"}" "http://127.0.0.1:$port/api/v1/images/pull" | python3 -c 'import sys; print(round(float(sys.stdin.read())*1000))'
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "image benchmark: $runs interleaved runs per image on $(nproc) cores; 'musl' stands in for an Alpine-based image (Alpine's mirror is unreachable here)"
# A node agent is long-running: its JIT compiles the pull path once in its life. Each image is pulled once and deleted
# before the timed runs, which start from an empty image store and dropped caches all the same.
warm=()
for name in $images; do
  t=$(date +%s%N); out=$(pull "127.0.0.1:$reg_port/bench/$name:1"); warm+=("$name $(ms "$t") ms"); digest_of "${out%$'\n'*}" >/dev/null
  curl -sf -X POST "http://127.0.0.1:$port/api/v1/images/gc?unused=true" >/dev/null
done
echo "warm-up pulls in the fresh agent (untimed, caches not dropped): ${warm[*]}"
declare -A result
for name in $images; do
  image="127.0.0.1:$reg_port/bench/$name:1"
  files=$(find "$cache/stages/$(layers_of "$name" | awk '{print $NF}')" | wc -l)
  echo "== $name: ${layer_count[$name]} layers, ${layer_mb[$name]} MB in the registry, ${tree_mb[$name]} MB and $files files unpacked"
  ours=(); walls=(); theirs=()
  for run in $(seq "$runs"); do
    curl -sf -X POST "http://127.0.0.1:$port/api/v1/images/gc?unused=true" >/dev/null
    cold_start; t=$(date +%s%N); out=$(pull "$image"); walls+=("$(ms "$t")")
    digest=$(digest_of "${out%$'\n'*}"); ours+=("$(seconds_to_ms "${out##*$'\n'}")")
    cold_start; t=$(date +%s%N); pipeline "$image"; theirs+=("$(ms "$t")"); rm -rf "$work/pipeline" # untimed, like Bolero's gc
    echo "run $run: bolero ${ours[-1]} ms (${walls[-1]} ms with the start of curl itself), skopeo+umoci+mkfs ${theirs[-1]} ms"
  done
  again=$(pull_ms "${image%:*}@$digest")
  m_ours=$(median "${ours[@]}"); m_walls=$(median "${walls[@]}"); m_theirs=$(median "${theirs[@]}")
  ratio=$(python3 -c "print(f'{$m_theirs/$m_ours:.2f}')"); wall_ratio=$(python3 -c "print(f'{$m_theirs/$m_walls:.2f}')")
  result[$name]="$(printf '%-6s %7s ms %9s ms %6sx %8s ms %7sx %8s ms' "$name" "$m_ours" "$m_theirs" "$ratio" "$m_walls" "$wall_ratio" "$again")"
  curl -sf -X POST "http://127.0.0.1:$port/api/v1/images/gc?unused=true" >/dev/null || true
done
grep -oE '(built root drive|pulled image).*' "$work/agent.log" | sed 's/^/agent: /' || true
echo "cold pull-and-prepare, median of $runs runs. bolero: the API request as curl times it (the agent is the service that"
echo "prepares images; its callers are running processes); with curl: the same request timed around a curl started from"
echo "the dropped page cache (~0.1 s on a loaded host) as the pipeline's tools are; second: a second prepare of the same"
echo "image by digest, through the API"
echo "image   bolero     skopeo+umoci+mkfs.ext4  ratio   with curl  ratio   second"
for name in $images; do echo "${result[$name]}"; done
