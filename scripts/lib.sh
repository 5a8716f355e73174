# Shared by the project's scripts: finds Java 25 and installs the Debian packages Bolero needs. Source it.
# shellcheck shell=bash

BOLERO_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Debian packages: the VMM, the guest kernel and its modules, the tools that build and serve images, networking (with
# wireguard-go and wg for the private network's links),
# and clang with its libFuzzer runtime (libclang-rt-14-dev) for fuzzing bolero-init's parser (scripts/fuzz.sh).
BOLERO_PACKAGES=(qemu-system-x86 qemu-utils linux-image-amd64 e2fsprogs busybox-static musl-tools make gcc cpio
  umoci skopeo docker-registry nftables iproute2 util-linux xz-utils curl ca-certificates clang libclang-rt-14-dev
  wireguard-go wireguard-tools)

# Installs whichever of BOLERO_PACKAGES (plus any given) is missing. Needs root.
install_packages() {
  install_missing "${BOLERO_PACKAGES[@]}" "$@"
}

# Installs whichever of the given Debian packages is missing (waiting for another apt run to finish). Needs root.
install_missing() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "installing: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
    apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# Sets JAVA_HOME to a JDK 25 or newer, or explains how to get one.
find_java() {
  local candidates=("${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64 /usr/lib/jvm/*)
  local c v
  for c in "${candidates[@]}"; do
    [[ -n "$c" && -x "$c/bin/javac" ]] || continue
    v=$("$c/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
    if [[ "${v%%.*}" -ge 25 ]] 2>/dev/null; then
      export JAVA_HOME="$c"
      return 0
    fi
  done
  echo "bolero needs a JDK 25 (e.g. Temurin 25 from the Adoptium apt repository); none found under /usr/lib/jvm" >&2
  return 1
}

# Builds the distribution (jars under cli/target, bolero-init inside the guest jar).
build() {
  (cd "$BOLERO_HOME" && ./mvnw -q -B -DskipTests package)
}

# Starts Debian's docker-registry on a free 127.0.0.1 port, its storage, config and log under DIR, in its own session
# (so Ctrl-C reaches the caller only, which stops it in order). Sets reg_port and reg_pid. Fails, naming the log and
# leaving nothing running, when the registry does not answer.
start_registry() {
  local dir=$1
  reg_port=$(free_port)
  printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s/registry\nhttp:\n  addr: 127.0.0.1:%s\nlog:\n  level: error\n' \
    "$dir" "$reg_port" >"$dir/registry.yml"
  setsid docker-registry serve "$dir/registry.yml" >"$dir/registry.log" 2>&1 &
  reg_pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$reg_port/v2/" >/dev/null && return 0
    sleep 0.1
  done
  kill "$reg_pid" 2>/dev/null || true
  echo "docker-registry did not answer on 127.0.0.1:$reg_port; see $dir/registry.log" >&2
  return 1
}

# Waits (at most 2 minutes) until `bolero up`, process PID, has printed its ready line to LOG; exits the script with the
# log when it ends or does not get there.
await_up() {
  local pid=$1 log=$2
  for _ in $(seq 600); do
    grep -qs '^bolero up:' "$log" && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; echo "bolero up exited" >&2; exit 1; }
    sleep 0.2
  done
  cat "$log" >&2
  echo "bolero up did not start" >&2
  exit 1
}

# Prints a free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
    shuf -i 20000-60000 -n 1
}

# Makes an address to publish machines' ports on: PUBLISH/24 on VETH, a veth to a throw-away namespace NETNS.
publish_veth() {
  local netns=$1 veth=$2 publish=$3
  ip netns add "$netns"
  ip link add "$veth" type veth peer name eth0 netns "$netns"
  ip addr add "$publish/24" dev "$veth"
  ip link set "$veth" up
  ip -n "$netns" link set eth0 up
}

# Undoes a benchmark with a networked agent: deletes the agent's machines (when AGENT_PORT is set), stops the
# processes PIDS... and their children, removes the devices named PREFIX*, the nftables tables TABLE, the namespace
# NETNS and VETH. Usage: cleanup_network_bench AGENT_PORT PREFIX TABLE NETNS VETH [PIDS...]
cleanup_network_bench() {
  local agent_port=$1 prefix=$2 table=$3 netns=$4 veth=$5
  shift 5
  if [[ -n $agent_port ]]; then
    for m in $(curl -s "http://127.0.0.1:$agent_port/api/v1/machines" | python3 -c 'import json,sys; [print(m["id"]) for m in json.load(sys.stdin)]' 2>/dev/null); do
      curl -s -X DELETE "http://127.0.0.1:$agent_port/api/v1/machines/$m?force=true" >/dev/null || true
    done
  fi
  for p in "$@"; do pkill -P "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  if [[ $# -gt 0 ]]; then wait "$@" 2>/dev/null || true; fi
  for d in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^$prefix" || true); do ip link del "$d" || true; done
  nft delete table inet "$table" 2>/dev/null || true
  nft delete table bridge "$table" 2>/dev/null || true
  ip netns del "$netns" 2>/dev/null || true
  ip link del "$veth" 2>/dev/null || true
}
