#!/usr/bin/env bash
# Runs Bolero's whole test suite (unit, integration and end-to-end tests against real QEMU, a real registry, real
# devices). Installs the Debian packages the tests need first. Run as root.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
install_packages
find_java
cd "$BOLERO_HOME"
exec ./mvnw -B -ntp verify "$@"
