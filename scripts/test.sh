#!/usr/bin/env bash
# Runs Bolero's whole test suite (unit, integration and end-to-end tests against real QEMU, a real registry, real
# devices), then lints the OpenAPI documents the tests generated with Redocly's recommended rules. Installs the Debian
# packages the tests need first. Run as root.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Test-only extras: PostgreSQL for the control plane's cluster tests, htpasswd for the registry auth tests, Chromium
# for the web console's browser test (ConsoleBrowserTest drives it with playwright-core, which it installs from npm),
# fish to run the fish completion script the CLI prints, wireguard-go and wg for the private network's links, tcpdump to
# watch what crosses them, pebble (with pebble-challtestsrv) as the ACME server the gateway's certificates come from.
install_packages postgresql apache2-utils python3 procps openssl chromium fish wireguard-go wireguard-tools tcpdump pebble
# npm for the OpenAPI lint and the console test (a host may have Node.js from elsewhere: only install Debian's when npm is missing).
command -v npm >/dev/null || install_packages nodejs npm
find_java
# The suite boots Bolero's lean guest kernel by default: build it (once; cached under /var/cache/bolero/kernel).
# GuestKernelIT and BootAssetsBuilderTest still boot Debian's kernel, the fallback.
kernel=$("$BOLERO_HOME/scripts/build-kernel.sh")
echo "guest kernel: $kernel" >&2
cd "$BOLERO_HOME"
./mvnw -B -ntp verify "$@"
# A minute each for the fuzz targets (hostile guests' control-channel bytes, hostile clients' bodies, and what the host
# sends bolero-init, under libFuzzer).
"$BOLERO_HOME/scripts/fuzz.sh"

# The documents ServerOpenApiTest and NodeOpenApiTest wrote; Redocly's CLI is kept outside the repository.
REDOCLY_VERSION=2.77.0
REDOCLY_PREFIX=/var/cache/bolero/npm
redocly="$REDOCLY_PREFIX/node_modules/.bin/redocly"
documents=()
for doc in server/target/openapi/server.json agent/target/openapi/node.json; do
  [[ -f "$doc" ]] && documents+=("$doc")
done
if ((${#documents[@]} == 0)); then
  echo "openapi lint: no generated document (the tests that write them did not run)" >&2
  exit 0
fi
node_version=$(node --version 2>/dev/null || echo v0)
if ! printf '%s\n' v20.19.0 "$node_version" | sort -V -C; then
  echo "openapi lint skipped: Redocly CLI $REDOCLY_VERSION needs Node.js 20.19 or later, this host has $node_version" >&2
  exit 0
fi
if [[ "$("$redocly" --version 2>/dev/null)" != "$REDOCLY_VERSION" ]]; then
  mkdir -p "$REDOCLY_PREFIX"
  npm install --prefix "$REDOCLY_PREFIX" --no-audit --no-fund --silent "@redocly/cli@$REDOCLY_VERSION"
fi
"$redocly" lint --extends=recommended "${documents[@]}"
