#!/usr/bin/env bash
# libFuzzer over the C shims (CHerdJPEG, CHerdPNG, CHerdFreeType), built with AddressSanitizer and
# UndefinedBehaviorSanitizer (clang from the Swift toolchain), and over the Swift parsers of outside bytes
# (the herdlens-fuzz product, built by SwiftPM with -sanitize=fuzzer,address). See Fuzz/README.md.
#
#   scripts/fuzz.sh TARGET SECONDS [libFuzzer flags...]   # fuzz one harness; findings land in .build-fuzz/findings/TARGET
#   scripts/fuzz.sh --regress [SECONDS] [--c-only]        # every harness (or the C ones) over its seeds and regressions, then SECONDS (default 10) of fuzzing
#   scripts/fuzz.sh --replay BIN                          # the Swift harnesses' seeds and regressions through BIN, a plain build of
#                                                         # herdlens-fuzz (CI: the ASan test build's), no fuzzing and no second build
#   scripts/fuzz.sh --list
#
# Seeds come from SampleFrames (variants, malformed, hostile), prefixed with the control bytes each
# harness expects; the growing corpus lives in .build-fuzz/corpus/TARGET. A finding is fixed, then its
# input is kept in Fuzz/regressions/TARGET/ so every later run replays it.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(jpeg_header jpeg_decode jpeg_transcode jpeg_encode png_decode freetype_text
         strict_json protocol_messages multipart segment_reader segment_recovery bundle_reader)
# Swift harnesses live in Sources/herdlens-fuzz, one binary that takes the harness's name first.
swift_targets=" strict_json protocol_messages multipart segment_reader segment_recovery bundle_reader "
out=.build-fuzz
spm=$out/spm
cc=${CC:-clang}
command -v "$cc" >/dev/null || { echo "clang not found (it ships with the Swift toolchain)" >&2; exit 1; }
# Sanitizer findings stop the run; with ASan, float-cast and the rest of UBSan abort instead of printing.
flags=(-g -O2 -fuse-ld=lld -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -IFuzz)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export SWIFT_BACKTRACE=enable=no  # Swift's crash handler confuses ASan
# The herdlens-fuzz that writes the Swift harnesses' real seeds: the fuzz build's, or --replay's.
fuzz_bin=$PWD/$spm/debug/herdlens-fuzz
# The Swift recording harnesses make one real recording here and reuse it, so seeds chain with it.
export HERDLENS_FUZZ_HOME=${HERDLENS_FUZZ_HOME:-$PWD/$out/home}
mkdir -p "$HERDLENS_FUZZ_HOME"
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

sources_for() {
  case "$1" in
    jpeg_*) echo "Sources/CHerdJPEG/shim.c Sources/CHerdJPEG/transcode.c -ISources/CHerdJPEG/include -ISources/CHerdJPEG $(pkg-config --cflags --libs libjpeg)" ;;
    png_*) echo "Sources/CHerdPNG/shim.c -ISources/CHerdPNG/include $(pkg-config --cflags --libs libpng)" ;;
    freetype_*) echo "Sources/CHerdFreeType/shim.c -ISources/CHerdFreeType/include $(pkg-config --cflags --libs freetype2)" ;;
  esac
}

is_swift() { [[ $swift_targets == *" $1 "* ]]; }

# Largest input each harness is given (seeds may be larger and still run in full first).
max_len_for() {
  case "$1" in
    segment_reader|bundle_reader) echo 65536 ;;
    segment_recovery) echo 16384 ;;
    *) echo 8192 ;;
  esac
}

build_swift() { # once per run: SwiftPM decides what is stale
  [[ -n ${swift_built:-} ]] && return 0
  echo "building herdlens-fuzz (SwiftPM, -sanitize=fuzzer,address)" >&2
  swift build --scratch-path "$spm" --product herdlens-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -O -Xswiftc -g \
    2> >(grep -v "Cannot export local symbol" >&2) | grep -E "error|warning: unre|Compiling herdlens_fuzz|Build complete" >&2 || true
  [[ -x $spm/debug/herdlens-fuzz ]] || { echo "herdlens-fuzz did not build" >&2; exit 1; }
  swift_built=1
}

build() { # target
  local t=$1 bin=$out/bin/$1
  mkdir -p "$out/bin"
  if is_swift "$t"; then
    build_swift
    printf '#!/usr/bin/env bash\nexec "%s" %s "$@"\n' "$PWD/$spm/debug/herdlens-fuzz" "$t" > "$bin"
    chmod +x "$bin"
    return 0
  fi
  # shellcheck disable=SC2046
  if [[ ! -x $bin || -n $(find Fuzz/"$t".c Fuzz/fuzz_common.h Sources/CHerd* -newer "$bin" -print -quit) ]]; then
    echo "building $t" >&2
    $cc "${flags[@]}" "Fuzz/$t.c" $(sources_for "$t") -lm -o "$bin"
  fi
}

# Control bytes before the image: what each harness reads first (see its header comment).
prefix_for() {
  case "$1" in
    jpeg_decode|png_decode) printf '\x01' ;;
    jpeg_transcode) printf '\x01\x60\x00\x2a\x17\x05\x63\x09' ;;
    *) ;;
  esac
}

seed() { # target
  local t=$1 dir=$out/corpus/$1 files=()
  mkdir -p "$dir"
  [[ -n $(ls -A "$dir") ]] && return 0
  case "$t" in
    jpeg_header|jpeg_decode|jpeg_transcode)
      files=(Fuzz/seeds/jpeg/* SampleFrames/variants/*.jpg SampleFrames/malformed/*jpeg* SampleFrames/hostile/*.jpg) ;;
    png_decode) files=(Fuzz/seeds/png/* SampleFrames/variants/*.png SampleFrames/malformed/*png*) ;;
    strict_json)
      files=(Protocol/v1/examples/wire/*.json Protocol/v1/examples/wire-invalid/*.json Protocol/v1/examples/*.json) ;;
    protocol_messages)
      # Every golden and refused example under each entry point (the selector byte), and framed headers.
      local i f
      for f in Protocol/v1/examples/wire/*.json Protocol/v1/examples/wire-invalid/*.json Protocol/v1/examples/marks-invalid/*.json Protocol/v1/examples/*.json; do
        for i in 1 2 3 4 5 6 7 8; do { printf "\\x0$i"; cat "$f"; } > "$dir/$i-$(basename "$f")"; done
        python3 -c 'import sys,struct; b=open(sys.argv[1],"rb").read(); sys.stdout.buffer.write(b"\x00"+struct.pack(">I",len(b))+b+b"\xff\xd8\xff\xd9")' "$f" > "$dir/0-$(basename "$f")"
      done ;;
    multipart)
      python3 - "$dir" <<'PY'
import sys
b = "herdlens-boundary"
body = (f"--{b}\r\nContent-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\n\r\n"
        '{"type":"frame","seq":1}' f"\r\n--{b}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"f.jpg\"\r\n"
        f"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xd9\r\n--{b}--\r\n").encode("latin-1")
open(f"{sys.argv[1]}/two-parts", "wb").write(bytes([len(b) - 1]) + b.encode() + body)
open(f"{sys.argv[1]}/truncated", "wb").write(bytes([len(b) - 1]) + b.encode() + body[:70])
PY
      ;;
    segment_reader|segment_recovery|bundle_reader)
      # Real inputs: the segments of a session recorded by the real Recorder, its exported bundle.
      ASAN_OPTIONS=detect_leaks=0 "$fuzz_bin" seeds "$t" "$dir" >&2 ;;
    jpeg_encode) printf '\x3f\x00\x2f\x00\x01\x55\x02\x00\x10\x80\xf0\x33' > "$dir/small-rgb" ;;
    freetype_text)
      printf '\x20Consignment HK-2026-11-20-0042 \xe7\xb2\xa4B\xc2\xb712345' > "$dir/plate"
      printf '\xff\xed\xa0\x80\xf4\x90\x80\x80\x00\x1b[31m\xef\xbb\xbf' > "$dir/invalid" ;;
  esac
  for f in "${files[@]}"; do
    { prefix_for "$t"; cat "$f"; } > "$dir/$(basename "$f")"
  done
}

run() { # target seconds [flags]
  local t=$1 secs=$2; shift 2
  build "$t"
  seed "$t"
  mkdir -p "$out/findings/$t" "Fuzz/regressions/$t"
  # Inputs up to 8 KB keep each run well under a millisecond; the larger seeds still run in full first.
  "$out/bin/$t" -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=2048 -timeout=10 -max_len="$(max_len_for "$t")" \
    -artifact_prefix="$out/findings/$t/" "$@" "$out/corpus/$t" "Fuzz/regressions/$t"
}

case "${1:-}" in
  --list) printf '%s\n' "${targets[@]}" ;;
  --regress)
    secs=${2:-10}
    [[ ${3:-} == --c-only ]] && c_only=1
    for t in "${targets[@]}"; do
      [[ -n ${c_only:-} ]] && is_swift "$t" && continue
      build "$t"
      seed "$t"
      mkdir -p "Fuzz/regressions/$t"
      # Replays every seed and regression input (a crash fails the run), then fuzzes briefly.
      echo "== $t: seeds and $(ls "Fuzz/regressions/$t" | wc -l) regression inputs, then ${secs}s" >&2
      log=$out/findings/$t.log
      mkdir -p "$out/findings"
      if ! "$out/bin/$t" -runs=0 "$out/corpus/$t" "Fuzz/regressions/$t" > "$log" 2>&1 || ! run "$t" "$secs" -close_fd_mask=1 >> "$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "$t: finding (input in $out/findings/$t/)" >&2
        exit 1
      fi
      grep -E '^stat::number_of_executed_units|^#[0-9]+ +DONE' "$log" | tail -n 2
    done
    echo "fuzz regressions: ${c_only:+the C }harnesses clean" ;;
  --replay)
    [[ -x ${2:-} ]] || { echo "usage: scripts/fuzz.sh --replay PATH/TO/herdlens-fuzz" >&2; exit 64; }
    fuzz_bin=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
    # A plain build replays every file named and exits; any sanitizer report or trap fails the run.
    export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/scripts/lsan.supp:print_suppressions=0}
    for t in $swift_targets; do
      seed "$t"
      mkdir -p "Fuzz/regressions/$t" "$out/findings"
      log=$out/findings/$t.replay.log
      if ! "$fuzz_bin" "$t" "$out/corpus/$t" "Fuzz/regressions/$t" > "$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "$t: an input failed under $fuzz_bin (see $log)" >&2
        exit 1
      fi
      tail -n 1 "$log"
    done
    echo "fuzz replays: the Swift harnesses clean" ;;
  ""|-h|--help) sed -n '2,12p' "$0"; exit 64 ;;
  *)
    [[ $# -ge 2 ]] || { echo "usage: scripts/fuzz.sh TARGET SECONDS" >&2; exit 64; }
    [[ " ${targets[*]} " == *" $1 "* ]] || { echo "unknown target $1 (scripts/fuzz.sh --list)" >&2; exit 64; }
    run "$@" ;;
esac
