#!/usr/bin/env bash
# Fuzzes what hostile parties feed Bolero, each target for the time its @FuzzTest names (60 s): the guest control
# channel as a hostile guest writes it (GuestProtocolFuzzTest) and API request bodies as a hostile client sends them
# (ApiBodyFuzzTest). Jazzer (from Maven Central) mutates inputs with coverage feedback; a finding fails the run and is
# saved under the test's resources as a regression input, which every later `mvnw verify` replays.
# Run after a build; scripts/test.sh calls it. Set BOLERO_FUZZ=0 to skip.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
find_java
cd "$BOLERO_HOME"
if [[ "${BOLERO_FUZZ:-1}" == 0 ]]; then
  echo "fuzzing skipped (BOLERO_FUZZ=0)" >&2
  exit 0
fi
JAZZER_FUZZ=1 ./mvnw -B -ntp -q -pl api,runtime -am test -Dsurefire.failIfNoSpecifiedTests=false \
  -Dtest='dev/bolero/api/ApiBodyFuzzTest,dev/bolero/runtime/guest/GuestProtocolFuzzTest' 2>&1 \
  | grep -E '^(Done [0-9]+ runs|==[0-9]+== ERROR|.*FAIL|\[ERROR\])' || true
# The generated corpora are scratch: the findings that matter are the regression inputs Jazzer saved.
rm -rf api/.cifuzz-corpus runtime/.cifuzz-corpus
for report in api/target/surefire-reports/TEST-dev.bolero.api.ApiBodyFuzzTest.xml \
  runtime/target/surefire-reports/TEST-dev.bolero.runtime.guest.GuestProtocolFuzzTest.xml; do
  if [[ ! -f "$report" ]] || grep -qE '(failures|errors)="[1-9]' "$report"; then
    echo "fuzzing found a failure (or did not run): $report" >&2
    exit 1
  fi
done
echo "fuzzing: no finding" >&2
