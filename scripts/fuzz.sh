#!/usr/bin/env bash
# Fuzzes what hostile parties feed Bolero, each target for the time its @FuzzTest names (60 s): the guest control
# channel as a hostile guest writes it (GuestProtocolFuzzTest), API request bodies as a hostile client sends them
# (ApiBodyFuzzTest), and whole requests to every operation of the server's API, path and query parameters and bodies,
# each answer checked against the OpenAPI document (ServerApiFuzzTest, against a real server on SQLite). Jazzer (from Maven Central) mutates inputs with coverage feedback; a finding fails the run and is
# saved under the test's resources as a regression input, which every later `mvnw verify` replays.
# Then bolero-init's host-facing parser (guest/fuzz/host_frames_fuzz.c) for 60 s with libFuzzer (clang, from
# BOLERO_PACKAGES) under AddressSanitizer and UndefinedBehaviorSanitizer; a finding fails the run, its input kept
# under guest/fuzz/build/ (the reproducer: `guest/fuzz/build/host_frames_fuzz FILE`).
# Run after a build; scripts/test.sh calls it. Set BOLERO_FUZZ=0 to skip.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
find_java
cd "$BOLERO_HOME"
if [[ "${BOLERO_FUZZ:-1}" == 0 ]]; then
  echo "fuzzing skipped (BOLERO_FUZZ=0)" >&2
  exit 0
fi
JAZZER_FUZZ=1 ./mvnw -B -ntp -q -pl api,runtime,server -am test -Dsurefire.failIfNoSpecifiedTests=false \
  -Dtest='dev/bolero/api/ApiBodyFuzzTest,dev/bolero/runtime/guest/GuestProtocolFuzzTest,dev/bolero/server/http/ServerApiFuzzTest' 2>&1 \
  | grep -E '^(Done [0-9]+ runs|==[0-9]+== ERROR|.*FAIL|\[ERROR\])' || true
# The generated corpora are scratch: the findings that matter are the regression inputs Jazzer saved.
rm -rf api/.cifuzz-corpus runtime/.cifuzz-corpus server/.cifuzz-corpus
for report in api/target/surefire-reports/TEST-dev.bolero.api.ApiBodyFuzzTest.xml \
  runtime/target/surefire-reports/TEST-dev.bolero.runtime.guest.GuestProtocolFuzzTest.xml \
  server/target/surefire-reports/TEST-dev.bolero.server.http.ServerApiFuzzTest.xml; do
  if [[ ! -f "$report" ]] || grep -qE '(failures|errors)="[1-9]' "$report"; then
    echo "fuzzing found a failure (or did not run): $report" >&2
    # What failed, and the input Jazzer kept (the checkout may be thrown away, so its bytes are printed too).
    [[ -f "$report" ]] && sed -n '/<\(failure\|error\) /,/<\/\(failure\|error\)>/p' "$report" | head -40 >&2
    git ls-files --others --exclude-standard -- '*/src/test/resources/*FuzzTestInputs/*' | while read -r input; do
      echo "kept input $input:" >&2
      od -A d -c "$input" | head -20 >&2
    done
    exit 1
  fi
done

# bolero-init: seeds are a CONFIG and an EXEC as the agent sends them; the corpus it grows is scratch.
fuzz_dir="$BOLERO_HOME/guest/fuzz/build"
if ! command -v clang >/dev/null || ! compgen -G '/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a' >/dev/null; then
  echo "fuzzing bolero-init needs clang and its libFuzzer runtime (apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi
make -s -C guest/fuzz OUT="$fuzz_dir"
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
printf '\x81\x00\x00\x00\x2a''arg\0/bin/sh\0arg\0-c\0env\0A=b\0user\x001000:1000\0' >"$corpus/config"
printf '\x84\x00\x00\x00\x15\x00\x00\x00\x01''arg\0ls\0tty\x0024x80\0\x89\x00\x00\x00\x08\x00\x00\x00\x01\x00\x01\x00\x00' \
  >"$corpus/exec"
if ! "$fuzz_dir/host_frames_fuzz" -max_total_time=60 -max_len=65536 -dict=guest/fuzz/host_frames.dict \
  -artifact_prefix="$fuzz_dir/" -print_final_stats=1 "$corpus" 2>"$fuzz_dir/fuzz.log"; then
  grep -E '^(==[0-9]+==|SUMMARY|.*runtime error|artifact_prefix)' "$fuzz_dir/fuzz.log" >&2 || tail -20 "$fuzz_dir/fuzz.log" >&2
  echo "fuzzing found a failure in bolero-init's host-facing parser: $fuzz_dir/fuzz.log" >&2
  exit 1
fi
grep -E '^stat::number_of_executed_units' "$fuzz_dir/fuzz.log" >&2 || true
echo "fuzzing: no finding" >&2
