#!/usr/bin/env bash
# Kills the real server with SIGKILL during ingest from a real device, ROUNDS times (default 20), at
# random moments (group commits, segment rotation every ~1 MiB, checkpoints every second), restarting
# it each time. Then: every seq the device was acknowledged is in the index and readable
# (scripts/check-recording.py, an independent reader), every session verifies (herdlens verify), and
# each restart's recovery is logged. Exit 0 when nothing acknowledged was lost.
#
#   scripts/crash-test.sh [ROUNDS]        (builds debug products if missing; HERDLENS=path to override)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-20}"
HERDLENS="${HERDLENS:-.build/debug/herdlens}"
[ -x "$HERDLENS" ] && [ -x "$(dirname "$HERDLENS")/herdlens-codec-worker" ] || {
    swift build --product herdlens
    swift build --product herdlens-codec-worker
}
WORK="$(mktemp -d /tmp/herdlens-crash.XXXXXX)"
DATA="$WORK/data"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat > "$WORK/config.json" <<JSON
{"recording": {"commitWindowSeconds": 0.02, "segmentMaxBytes": 1048576, "checkpointSeconds": 1, "minFreeBytes": 0}}
JSON
SERVER_PID=""; DEVICE_PID=""
cleanup() {
    [ -n "$DEVICE_PID" ] && kill -9 "$DEVICE_PID" 2>/dev/null || true
    [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null || true
    if [ "${KEEP:-0}" != 1 ]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}
trap cleanup EXIT

start_server() {
    "$HERDLENS" serve --data "$DATA" --port "$PORT" --config "$WORK/config.json" --log-level notice >>"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 200); do
        curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    echo "server did not start"; tail -20 "$WORK/server.log"; exit 1
}

mkdir -p "$DATA"
TOKEN="$("$HERDLENS" token issue --data "$DATA" --role device --stream crash-cam)"
start_server
"$HERDLENS" simulate --server "ws://127.0.0.1:$PORT" --token "$TOKEN" --stream crash-cam --fps 60 --loop \
    --ack-log "$WORK/acked.txt" SampleFrames/frames >"$WORK/device.log" 2>&1 &
DEVICE_PID=$!
for round in $(seq 1 "$ROUNDS"); do
    # Somewhere between 0.3 and 2.3 s of ingest, then SIGKILL: no chance to flush or close anything.
    sleep "$(python3 -c 'import random; print(round(0.3 + 2 * random.random(), 3))')"
    kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
    acked=$(wc -l <"$WORK/acked.txt")
    echo "round $round: server killed with $acked acks so far"
    start_server
done
sleep 1
kill -TERM "$DEVICE_PID"; wait "$DEVICE_PID" 2>/dev/null || true; DEVICE_PID=""
kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
grep -h "recovered after an unclean stop" "$WORK/server.log" | sed 's/^/  recovery: /' | tail -n "$ROUNDS" || true

status=0
python3 scripts/check-recording.py "$DATA" "$WORK/acked.txt" || status=1
sessions=0
for id in $("$HERDLENS" session list --data "$DATA" --limit 500 | cut -f1); do
    sessions=$((sessions + 1))
    if ! "$HERDLENS" verify --data "$DATA" "$id" >"$WORK/verify.txt"; then
        echo "session $id does not verify:"; cat "$WORK/verify.txt"; status=1
    fi
done
echo "$sessions sessions verified after $ROUNDS kills"
[ "$status" = 0 ] && echo "crash test passed" || echo "crash test FAILED"
exit "$status"
