#!/usr/bin/env bash
# The main job: install, build, and run the server in demo mode: a fresh data directory (demo-data/),
# demo tokens printed, three simulated devices playing SampleFrames, the viewer at http://127.0.0.1:8080/.
# Stop with Ctrl-C (SIGINT) or SIGTERM: it drains and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product herdlens
swift build -c release --product herdlens-codec-worker   # device images are parsed only in these processes
exec .build/release/herdlens serve --demo "$@"
