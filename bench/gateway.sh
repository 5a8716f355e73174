#!/usr/bin/env bash
# Gateway benchmark (issue 14): requests/s and p50/p99 latency for a small response (a 13-byte static file) measured
# with wrk, (a) directly to the backend, (b) through the Bolero gateway (on the transport it picks here, io_uring where
# the kernel allows, and again on epoll, to show what io_uring brings), (c) through nginx as a reverse proxy to the
# same backend, all in one run and printed side by side. The backend is nginx serving the file (one worker), the same
# for all three. Everything listens on free loopback ports; nginx runs from a temporary directory with its own pid and
# log files, and everything is stopped on exit. Each target gets a warm-up run first (the gateway's JIT needs ~15 s on
# a busy 2-core host before it reaches its steady state; nginx and the backend are unaffected), then
# ROUNDS measured runs interleaved (direct, gateway, nginx, direct, …) so a noisy neighbour hurts all three alike;
# the table shows for each target the medians over its rounds of requests/s, p50, p99, the CPU time the serving
# processes (the backend's workers for direct, the gateway's JVM, nginx's workers) spent per request — less sensitive to neighbours than
# throughput on a shared host — and the context switches their threads made per request (hand-offs between threads).
# The gateway's JVM gets the options bin/bolero gives `bolero gateway` (GATEWAY_JAVA_OPTS overrides them).
# Each figure is its own median (so the p99 is not one lucky or unlucky round's); every round's requests/s and p99 are
# listed, and the last lines give the gateway's throughput and p99 as ratios of nginx's.
# Run it on a quiet host: other processes' bursts land on some rounds and not others. (Raising the bench's own priority
# instead was tried and distorts it: the kernel's softirq and io_uring worker threads stay at normal priority, and the
# gateway's CPU per request nearly doubled.)
# Both proxies get the same number of workers: WORKERS (default: the host's cores, each proxy's own default) is nginx's
# worker_processes and the gateway's --event-loops. On a host this small, shared with wrk and the backend, fewer
# workers than cores can serve more: run it with WORKERS=1 too.
# Usage: bench/gateway.sh   (env: DURATION=10s CONNECTIONS=64 THREADS=2 WARMUP=15s ROUNDS=5 WORKERS=<cores>;
# SKIP_BUILD=1 skips the build)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
duration="${DURATION:-10s}" connections="${CONNECTIONS:-64}" threads="${THREADS:-2}" warmup="${WARMUP:-15s}"
rounds="${ROUNDS:-5}" workers="${WORKERS:-$(nproc)}"
[[ "$workers" =~ ^[1-9][0-9]*$ ]] || { echo "WORKERS must be a positive count, got '$workers'" >&2; exit 2; }
find_java
install_missing wrk nginx
if [[ "${SKIP_BUILD:-0}" != 1 || ! -f "$BOLERO_HOME/bench/target/benchmarks.jar" ]]; then
  (cd "$BOLERO_HOME" && ./mvnw -q -B -ntp -pl bench -am package -DskipTests)
fi

work=$(mktemp -d /tmp/bolero-bench-gateway.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for conf in "$work"/*.conf; do
    [[ -f "$conf" ]] && nginx -c "$conf" -p "$work" -s stop >/dev/null 2>&1 || true
  done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
[[ -n "${KEEP:-}" ]] && trap - EXIT

backend_port=$(free_port) proxy_port=$(free_port) gateway_port=$(free_port) gateway_epoll_port=$(free_port)
host="web.bench.example.test"
mkdir -p "$work/www" "$work/logs"
chmod 755 "$work" "$work/www"  # nginx workers (www-data) read the file
printf 'hello bolero\n' >"$work/www/small"

cat >"$work/backend.conf" <<CONF
worker_processes 1;
pid $work/backend.pid;
error_log $work/logs/backend-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$backend_port; root $work/www; }
}
CONF
cat >"$work/proxy.conf" <<CONF
worker_processes $workers;
pid $work/proxy.pid;
error_log $work/logs/proxy-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  upstream backend { server 127.0.0.1:$backend_port; keepalive 128; }
  server {
    listen 127.0.0.1:$proxy_port;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$remote_addr;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-Host \$host;
      proxy_set_header X-Request-Id \$request_id;
    }
  }
}
CONF
cat >"$work/logback.xml" <<CONF
<configuration>
  <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender"><encoder><pattern>%d %-5level %logger{0} %msg%n</pattern></encoder></appender>
  <root level="WARN"><appender-ref ref="OUT"/></root>
</configuration>
CONF
nginx -c "$work/backend.conf" -p "$work"
nginx -c "$work/proxy.conf" -p "$work"

# start_gateway NAME PORT [TRANSPORT]: a gateway JVM in front of the backend; its pid in gateway_pids[NAME].
declare -A gateway_pids
start_gateway() {
  "$JAVA_HOME/bin/java" ${GATEWAY_JAVA_OPTS:---enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:+UseCompactObjectHeaders --sun-misc-unsafe-memory-access=allow} \
    -Dlogback.configurationFile="$work/logback.xml" -cp "$BOLERO_HOME/bench/target/benchmarks.jar" \
    dev.bolero.bench.GatewayBenchServer "$2" 127.0.0.1 "$backend_port" "$workers" ${3:-} >"$work/logs/$1.log" 2>&1 &
  gateway_pids[$1]=$!
  pids+=("$!")
}
start_gateway gateway "$gateway_port"
start_gateway gateway_epoll "$gateway_epoll_port" epoll
for name in gateway gateway_epoll; do
  for _ in $(seq 300); do
    grep -q '^ready' "$work/logs/$name.log" 2>/dev/null && break
    sleep 0.1
  done
  grep -q '^ready' "$work/logs/$name.log" || { cat "$work/logs/$name.log" >&2; echo "$name did not start" >&2; exit 1; }
done
transport=$(awk '/^ready/ {print $3}' "$work/logs/gateway.log")
for port in "$backend_port" "$proxy_port" "$gateway_port" "$gateway_epoll_port"; do
  curl -sf -H "Host: $host" "http://127.0.0.1:$port/small" >/dev/null || { echo "no answer on port $port" >&2; exit 1; }
done

# cpu_ticks PID...: user + system clock ticks the processes and their children threads have used so far.
cpu_ticks() {
  local total=0 p
  for p in "$@"; do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$total"
}

# switches PID...: context switches (voluntary and not) the processes' threads have made so far.
switches() {
  local p
  for p in "$@"; do cat "/proc/$p"/task/*/status 2>/dev/null; done | awk '/ctxt_switches/ {total += $2} END {print total + 0}'
}

# serving_pids NAME: the processes doing NAME's work (the proxy's, or the backend's for direct).
serving_pids() {
  case $1 in
    direct) pgrep -P "$(cat "$work/backend.pid")" ;;
    gateway | gateway_epoll) echo "${gateway_pids[$1]}" ;;
    nginx) pgrep -P "$(cat "$work/proxy.pid")" ;;
  esac
}

# measure NAME PORT ROUND: one wrk run; appends "req/s p50 p99 cpu-µs-per-request switches-per-request errors" to
# $work/NAME.rounds.
measure() {
  local name=$1 port=$2 round=$3 out before after switched requests
  local pids
  mapfile -t pids < <(serving_pids "$name")
  before=$(cpu_ticks "${pids[@]}") switched=$(switches "${pids[@]}")
  out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency -H "Host: $host" "http://127.0.0.1:$port/small")
  after=$(cpu_ticks "${pids[@]}") switched=$(( $(switches "${pids[@]}") - switched ))
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  echo "$out" >"$work/logs/wrk-$name-$round.txt"
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx|Socket errors/ {printf "%s ", $0}' <<<"$out")
  local cpu_us=$(( (after - before) * 1000000 / $(getconf CLK_TCK) / (requests > 0 ? requests : 1) ))
  local per_request=$(awk -v s="$switched" -v r="$requests" 'BEGIN {printf "%.2f", s / (r > 0 ? r : 1)}')
  echo "$rps $p50 $p99 $cpu_us $per_request $errors" >>"$work/$name.rounds"
}

names=(direct gateway gateway_epoll nginx)
declare -A ports=([direct]=$backend_port [gateway]=$gateway_port [gateway_epoll]=$gateway_epoll_port [nginx]=$proxy_port)
declare -A labels=([direct]="direct (backend)" [gateway]="bolero gateway ($transport)" [gateway_epoll]="bolero gateway (epoll)"
  [nginx]="nginx reverse proxy")
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)   cpus: $(nproc)   wrk: -t$threads -c$connections -d$duration x $rounds rounds (warm-up $warmup)   proxy workers: $workers"
for name in "${names[@]}"; do
  wrk -t"$threads" -c"$connections" -d"$warmup" -H "Host: $host" "http://127.0.0.1:${ports[$name]}/small" >/dev/null
done
for round in $(seq "$rounds"); do
  for name in "${names[@]}"; do
    measure "$name" "${ports[$name]}" "$round"
  done
done
printf '%-30s %12s %10s %10s %12s %14s   %s\n' "target (median of rounds)" "requests/s" "p50" "p99" "CPU µs/req" \
  "switches/req" "all rounds (requests/s; p99)"
# median COLUMN NAME: the median over NAME's rounds of the figure in COLUMN (latencies in wrk's units, e.g. 1.48ms).
median() {
  awk -v c="$1" '{v = $c; if (v ~ /us$/) v = v / 1000; else if (v ~ /ms$/) v = v + 0; else if (v ~ /s$/) v = v * 1000
    print v}' "$work/$2.rounds" | sort -g | sed -n "$(((rounds + 1) / 2))p"
}
for name in "${names[@]}"; do
  all=$(awk '{printf "%s ", $1} END {printf ";"} ' "$work/$name.rounds"; awk '{printf " %s", $3}' "$work/$name.rounds")
  errors=$(awk '{for (i = 6; i <= NF; i++) printf "%s ", $i}' "$work/$name.rounds")
  printf '%-30s %12s %8.2fms %8.2fms %12s %14s   %s%s\n' "${labels[$name]}" "$(median 1 "$name")" "$(median 2 "$name")" \
    "$(median 3 "$name")" "$(median 4 "$name")" "$(median 5 "$name")" "$all" "${errors:+ errors: $errors}"
done
for name in gateway gateway_epoll; do
  awk -v label="${labels[$name]}" -v r="$(median 1 "$name")" -v rn="$(median 1 nginx)" -v p="$(median 3 "$name")" \
    -v pn="$(median 3 nginx)" 'BEGIN {printf "%s / nginx: throughput %.3fx, p99 %.2fx   (goal: >= 1.0x, <= 1.2x)\n", label, r / rn, p / pn}'
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
