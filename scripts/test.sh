#!/usr/bin/env bash
# The test command: protocol schemas and golden examples, the fuzz harnesses over their corpora, the
# web viewer in a real browser, the Swift test suite, the export check, then the crash, fault and soak tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
python3 scripts/check-protocol.py
# The C shims under libFuzzer with ASan and UBSan: every seed and kept finding replayed, then 10 s each.
scripts/fuzz.sh --regress 10
swift build --build-tests
# The web viewer in headless Chromium (signs in, sees a live frame, saves out/viewer.png).
python3 Tests/Browser/viewer_test.py --herdlens .build/debug/herdlens --screenshot out/viewer.png
# The inspector's console: a 17-stream grid measured, marks placed on a frame and received by the simulated
# device, an alert acknowledged, a mark cleared, help, language; no browser console error.
python3 Tests/Browser/console_test.py --herdlens .build/debug/herdlens --screenshots out
# The auditor's page: sign in, filter, open a recording, seek, step, overlay, play, verify, export, language.
python3 Tests/Browser/auditor_test.py --herdlens .build/debug/herdlens --screenshots out
# Two processes, each with a bounded number of tests at once. Swift's cooperative pool has one
# thread per core: on 2 cores, unit tests drawing frames in process held both threads for 20 s and
# servers booted by other tests in the same process missed their clients' read deadlines (seen in
# CI); 50 socket tests started at once (each a server, codec workers, clients masking WebSocket
# frames in a debug build) did the same under load. A server in production has its pool to itself.
# Each under a deadline (scripts/watched.py): a test that ignores cancellation outlives its suite's time
# limit, so a hang is stopped there with the names of the tests still running and a backtrace.
scripts/watched.py 15 -- swift test --skip-build --skip 'HerdServerTests|HerdlensTests'
SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=6 scripts/watched.py 15 -- swift test --skip-build --filter 'HerdServerTests|HerdlensTests'
# Export as an auditor's tools read it: MCAP through the Python mcap package, bundles through zipfile and
# `herdlens verify` (pinned, unpinned, tampered), the audit log through `herdlens audit verify`.
python3 scripts/check-export.py --herdlens .build/debug/herdlens
# The detector scored as `herdlens eval detect` prints it, against the figures in docs/analysis.md.
scripts/check-eval.sh .build/debug/herdlens
# kill -9 of the real server during ingest, 3 times: every acknowledged frame kept, every session verifies.
scripts/crash-test.sh 3
# The same with retention purging a churning stream's short sessions all the while: kills land in purges;
# no purged session comes back, nothing is left moved aside, every session verifies.
scripts/crash-test.sh 8 --purge
# Faults against the real server while devices send: disk full, the filesystem turning read-only, the index
# locked by another process, SIGSTOP for 10 s, 5,000 idle sockets, a frame sent a byte a second, a viewer
# that never reads. Each: documented errors, others served, recovery, no acknowledged frame lost.
python3 scripts/fault-test.py --herdlens .build/debug/herdlens
# Soak, 2 minutes here (30 for the figures in docs/reliability.md): 8 devices at 15 fps, 20 viewers joining
# and leaving; resident memory, descriptors and threads must stay flat, every acknowledged frame recorded.
python3 scripts/soak.py --herdlens .build/debug/herdlens --minutes 2
