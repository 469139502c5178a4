#!/usr/bin/env bash
# The test command: protocol schemas and golden examples, then the Swift test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
python3 scripts/check-protocol.py
swift build --build-tests
swift test --skip-build
