#!/usr/bin/env bash
# `herdlens eval detect` as a user runs it: per-file lines, then exactly one summary line
# `precision=P recall=R count_mae=M`, with the built-in detector's figures on the labelled frames
# (../shared/frames, count truth for the two dense frames in SampleFrames/truth) at no less than
# docs/analysis.md reports, so a change that loses accuracy fails here.
set -euo pipefail
cd "$(dirname "$0")/.."
herdlens=${1:-.build/debug/herdlens}
frames=${FRAMES:-../shared/frames}
out=$("$herdlens" eval detect --truth SampleFrames/truth/ground_truth.csv "$frames")
echo "$out"
last=$(echo "$out" | tail -n 1)
[[ "$last" =~ ^precision=([0-9.]+)\ recall=([0-9.]+)\ count_mae=([0-9.]+)$ ]] || { echo "check-eval: bad summary line: $last" >&2; exit 1; }
[[ $(echo "$out" | grep -c '^precision=') == 1 ]] || { echo "check-eval: more than one summary line" >&2; exit 1; }
python3 - "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}" <<'PY'
import sys
p, r, m = map(float, sys.argv[1:])
ok = p >= 0.94 and r >= 0.97 and m <= 1.34
print(f"check-eval: precision {p} recall {r} count_mae {m}: {'ok' if ok else 'WORSE than docs/analysis.md'}")
sys.exit(0 if ok else 1)
PY
# A missing truth file is a clear error, not a crash.
if "$herdlens" eval detect --truth /nonexistent.csv "$frames" 2>/dev/null; then echo "check-eval: missing truth accepted" >&2; exit 1; fi
# Tracking and counting on the generated ramp sequences (docs/analysis.md has the per-sequence figures).
"$herdlens" sample sequences --shared "$frames" --output "${SEQUENCES:-SampleFrames/sequences}" >/dev/null
track=$("$herdlens" eval track "${SEQUENCES:-SampleFrames/sequences}")
echo "$track"
summary=$(echo "$track" | tail -n 1)
[[ "$summary" =~ ^sequences=([0-9]+)\ exact=([0-9]+)\ id_switches=([0-9]+)\ crossings_on_line=([0-9]+)/([0-9]+)$ ]] || { echo "check-eval: bad track summary: $summary" >&2; exit 1; }
(( BASH_REMATCH[1] == 8 && BASH_REMATCH[2] >= 8 )) || { echo "check-eval: fewer exact counts than docs/analysis.md reports" >&2; exit 1; }
(( BASH_REMATCH[3] <= 12 && BASH_REMATCH[4] >= 24 )) || { echo "check-eval: more id switches or fewer crossings on the line than docs/analysis.md reports" >&2; exit 1; }
echo "check-eval: ok"
