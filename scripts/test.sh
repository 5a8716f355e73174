#!/usr/bin/env bash
# Runs Bolero's whole test suite (unit, integration and end-to-end tests against real QEMU, a real registry, real
# devices). Installs the Debian packages the tests need first. Run as root.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Test-only extras: PostgreSQL for the control plane's cluster tests, htpasswd for the registry auth tests.
install_packages postgresql apache2-utils python3 procps openssl
find_java
cd "$BOLERO_HOME"
exec ./mvnw -B -ntp verify "$@"
