#!/usr/bin/env bash
# Control plane end to end: machine creates/s and p50/p99 create latency through the public API against a real
# server with 1,000 simulated nodes (join, long-poll assignments with each poll carrying the node's report, heartbeat
# as the agent does: once no report was accepted for 5 s and no held poll stands for heartbeats, see
# docs/cluster-protocol.md §2; report the machines running without booting; each node's requests on connections of
# its own, as a host's would be), on SQLite and on PostgreSQL (a
# throwaway cluster: initdb as the postgres user into a temporary directory, free port, removed after; needs the Debian
# package postgresql and root). Baseline in the same run: the same creates
# against 10 nodes, and GET /v1/status latency sampled during the large run; then, labelled with their commit and date,
# the figures measured for the code before batched placement (which this run cannot execute).
# Usage: bench/cluster.sh [nodes creates clients baseline_nodes stores]   (defaults 1000 3000 8 10 sqlite,postgres;
# baseline_nodes 0 skips the small run)
# Before the measured creates, at least BOLERO_BENCH_WARMUP creates (default 3000; 0 measures a cold server) warm the
# server's JIT up: a cold JVM spends about half of a short run compiling, which a long-running server does not. More go
# on, 1,000 at a time, while the server's JIT compiler threads took over 5% of its CPU in the last 1,000, up to
# BOLERO_BENCH_WARMUP_MAX (default 30000): after 3,000 they still took a third of it in the rounds. The warm-up's
# machines are then deleted (BOLERO_BENCH_KEEP_WARMUP=1 keeps them), so the rounds start on empty nodes: what a create
# costs grows with the machines on its node. The measured
# creates then run BOLERO_BENCH_ROUNDS times (default 5) on the same server, and each figure is its median over the
# rounds (every round's rate, p99 and CPU per create are listed too, and the compiler's share of the server's CPU): one
# round lasts a few seconds, and its rate swings with what else the host does then.
# The server runs with the JVM options bin/bolero gives `bolero server`. On PostgreSQL the CPU time of the database's
# own processes per create is printed too: they share the host's cores with the server and the harness. Each round also
# prints the server's placement batches from its metrics (bolero_scheduler_batch_seconds): creates per batch and the
# time one took to plan and commit; every create waits for its batch, one batch at a time.
# Builds the reactor first unless SKIP_BUILD=1. BOLERO_BENCH_QUOTA=1 gives the namespace a quota no create reaches, to
# measure what counting each create against it costs. The server runs in a JVM of its own (the harness holds the clients
# and the simulated agents), and each run prints the CPU per create of both apart; BOLERO_BENCH_SERVER_OPTS adds JVM
# options to the server's (e.g. -XX:StartFlightRecording=filename=/tmp/server.jfr to profile it alone).
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  ./mvnw -q -pl bench -am package -DskipTests
fi
exec "$JAVA_HOME/bin/java" -Xmx2g -Dlogback.configurationFile=bench-logback.xml -cp bench/target/benchmarks.jar dev.bolero.bench.ClusterBench "$@"
