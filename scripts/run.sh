#!/usr/bin/env bash
# The main job, for now: install, build, and compose every SampleFrames frame with its annotations into
# out/. (The live server arrives with the next issue; this stays as `herdlens compose` batch mode.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product herdlens
mkdir -p out
.build/release/herdlens compose --verbose --output out SampleFrames/frames
echo "annotated frames written to $(pwd)/out"
