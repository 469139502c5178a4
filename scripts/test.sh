#!/usr/bin/env bash
# The test command: protocol schemas and golden examples, the web viewer in a real browser, then the
# Swift test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
python3 scripts/check-protocol.py
swift build --build-tests
# The web viewer in headless Chromium (signs in, sees a live frame, saves out/viewer.png).
python3 Tests/Browser/viewer_test.py --herdlens .build/debug/herdlens --screenshot out/viewer.png
swift test --skip-build
