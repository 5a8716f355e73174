#!/usr/bin/env bash
# Runs Bolero's whole test suite (unit, integration and end-to-end tests against real QEMU, a real registry, real
# devices). Installs the Debian packages the tests need first. Run as root.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Test-only extras: PostgreSQL for the control plane's cluster tests, htpasswd for the registry auth tests.
install_packages postgresql apache2-utils python3 procps openssl
find_java
# The suite boots Bolero's lean guest kernel by default: build it (once; cached under /var/cache/bolero/kernel).
# GuestKernelIT and BootAssetsBuilderTest still boot Debian's kernel, the fallback.
kernel=$("$BOLERO_HOME/scripts/build-kernel.sh")
echo "guest kernel: $kernel" >&2
cd "$BOLERO_HOME"
exec ./mvnw -B -ntp verify "$@"
