#!/usr/bin/env bash
# The Swift tests under a sanitizer, each in its own build (.build-asan, .build-tsan):
#   scripts/sanitize.sh [address]   every test under AddressSanitizer, LeakSanitizer on the unit tests
#   scripts/sanitize.sh thread      every test under ThreadSanitizer
# scripts/test.sh (and so CI) runs every test on the AddressSanitizer build already; `thread` is a second
# build of 8-15 minutes on 2 cores that CI's 30 minutes do not hold (docs/reliability.md).
# Reports go to out/sanitizer/; any report fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-address}"
export SWIFT_BACKTRACE=enable=no  # Swift's crash handler trips the sanitizers (../shared/TOOLCHAIN.md)
rm -rf out/sanitizer && mkdir -p out/sanitizer
case "$mode" in
address)
  build=.build-asan
  swift build --build-tests --sanitize=address --scratch-path "$build"
  asan="allocator_may_return_null=1:log_path=$PWD/out/sanitizer/asan"
  ASAN_OPTIONS="$asan:detect_leaks=1" LSAN_OPTIONS=suppressions=$PWD/scripts/lsan.supp:print_suppressions=0 \
    swift test --skip-build --sanitize=address --scratch-path "$build" --disable-xctest --skip 'HerdServerTests|HerdlensTests'
  # Server processes: memory errors, not leaks (see docs/reliability.md, Sanitizers).
  ASAN_OPTIONS="$asan:detect_leaks=0" SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=6 \
    swift test --skip-build --sanitize=address --scratch-path "$build" --disable-xctest --filter 'HerdServerTests|HerdlensTests'
  ;;
thread)
  build=.build-tsan
  swift build --build-tests --sanitize=thread --scratch-path "$build"
  # The servers the tests boot, their codec workers and the `herdlens` commands they run are TSan builds
  # too; every race report is written, none stops the run.
  tsan="halt_on_error=0:log_path=$PWD/out/sanitizer/tsan"
  TSAN_OPTIONS="$tsan" swift test --skip-build --sanitize=thread --scratch-path "$build" --disable-xctest --skip 'HerdServerTests|HerdlensTests'
  TSAN_OPTIONS="$tsan" SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=3 \
    swift test --skip-build --sanitize=thread --scratch-path "$build" --disable-xctest --filter 'HerdServerTests|HerdlensTests'
  ;;
*)
  echo "usage: scripts/sanitize.sh [address|thread]" >&2; exit 2 ;;
esac
if compgen -G "out/sanitizer/*" >/dev/null; then
  echo "sanitizer reports (out/sanitizer):" >&2
  head -c 20000 out/sanitizer/* >&2
  exit 1
fi
echo "sanitizers ($mode): no report"
