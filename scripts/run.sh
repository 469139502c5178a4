#!/usr/bin/env bash
# The main job: install, build, and run the server in demo mode: a fresh data directory (demo-data/),
# demo tokens printed, three simulated devices playing SampleFrames (a pen watched for crowding, a ramp
# counted against the declared head count, a truck cab), the viewer at http://127.0.0.1:8080/.
# Stop with Ctrl-C (SIGINT) or SIGTERM: it drains and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product herdlens
swift build -c release --product herdlens-codec-worker   # device images are parsed only in these processes
# The ramp camera's sequence (pig cut-outs from the labelled photographs walking up a ramp), made once
# when the photographs are there; without it the ramp camera plays the pen frames.
if [ -f ../shared/frames/ground_truth.csv ] && [ ! -f SampleFrames/sequences/busy-ramp/truth.json ]; then
    .build/release/herdlens sample sequences --shared ../shared/frames --only busy-ramp
fi
exec .build/release/herdlens serve --demo "$@"
