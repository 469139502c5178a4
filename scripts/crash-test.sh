#!/usr/bin/env bash
# Kills the real server with SIGKILL during ingest from a real device, ROUNDS times (default 20), at
# random moments (group commits, segment rotation every ~1 MiB, checkpoints every second), restarting
# it each time. Then: every seq the device was acknowledged is in the index and readable
# (scripts/check-recording.py, an independent reader), every session verifies (herdlens verify), and
# each restart's recovery is logged. Exit 0 when nothing acknowledged was lost.
#
# With --purge, retention runs all the time beside the ingest: a second device opens a short session
# on stream churn-cam, plays the sample frames once and ends it, over and over, and that stream keeps its
# sessions a quarter of a second (housekeeping every 0.2 s), so kills land in purges too (moving the
# directory aside, deleting the index row, removing the files). Then also: at least one purge happened,
# no purged session came back, every listed session verifies, and no `.purge-` directory is left after
# a clean start. The first device's acknowledged frames (stream crash-cam, retention untouched) must all
# be there as before.
#
#   scripts/crash-test.sh [ROUNDS] [--purge]   (builds debug products if missing; HERDLENS=path to override)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=20; PURGE=0
for arg in "$@"; do
    case "$arg" in
        --purge) PURGE=1 ;;
        *[!0-9]* | "") echo "usage: scripts/crash-test.sh [ROUNDS] [--purge]" >&2; exit 2 ;;
        *) ROUNDS="$arg" ;;
    esac
done
HERDLENS="${HERDLENS:-.build/debug/herdlens}"
[ -x "$HERDLENS" ] && [ -x "$(dirname "$HERDLENS")/herdlens-codec-worker" ] || {
    swift build --product herdlens
    swift build --product herdlens-codec-worker
}
WORK="$(mktemp -d /tmp/herdlens-crash.XXXXXX)"
DATA="$WORK/data"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
if [ "$PURGE" = 1 ]; then
    RETENTION=', "housekeepingSeconds": 0.2, "streamRetentionDays": {"churn-cam": 0.000003}'
else
    RETENTION=''
fi
cat > "$WORK/config.json" <<JSON
{"recording": {"commitWindowSeconds": 0.02, "segmentMaxBytes": 1048576, "checkpointSeconds": 1, "minFreeBytes": 0$RETENTION}}
JSON
SERVER_PID=""; DEVICE_PID=""; CHURN_PID=""
# The churn loop and the simulator it is running: stopped first so that it starts no other, then both
# killed (killing the loop alone would leave its simulator running, orphaned).
stop_churn() {
    [ -n "$CHURN_PID" ] || return 0
    kill -STOP "$CHURN_PID" 2>/dev/null || true
    pkill -9 -P "$CHURN_PID" 2>/dev/null || true
    kill -9 "$CHURN_PID" 2>/dev/null || true
    wait "$CHURN_PID" 2>/dev/null || true
    CHURN_PID=""
}
# SIGTERM, then up to SECONDS for a clean exit; a process still running then is killed and reported
# (a stop that hangs is a defect, and must not hold the run until CI's limit).
stop_within() {
    local pid="$1" seconds="$2" what="$3"
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 $((seconds * 10))); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        sleep 0.1
    done
    echo "$what did not stop within $seconds s of SIGTERM: killed"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    return 1
}
cleanup() {
    stop_churn
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
if [ "$PURGE" = 1 ]; then
    CHURN_TOKEN="$("$HERDLENS" token issue --data "$DATA" --role device --stream churn-cam)"
    # A short session after another (the simulator ends its session when the frames run out); a
    # connection refused while the server is down just goes round again.
    ( while true; do
        "$HERDLENS" simulate --server "ws://127.0.0.1:$PORT" --token "$CHURN_TOKEN" --stream churn-cam --fps 60 --session \
            SampleFrames/frames >>"$WORK/churn.log" 2>&1 || sleep 0.1
    done ) &
    CHURN_PID=$!
fi
for round in $(seq 1 "$ROUNDS"); do
    # Somewhere between 0.3 and 2.3 s of ingest, then SIGKILL: no chance to flush or close anything.
    sleep "$(python3 -c 'import random; print(round(0.3 + 2 * random.random(), 3))')"
    kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
    acked=$(wc -l <"$WORK/acked.txt")
    echo "round $round: server killed with $acked acks so far"
    start_server
done
sleep 1
stop_churn
status=0
stop_within "$DEVICE_PID" 20 "the simulated device" || status=1
DEVICE_PID=""
stop_within "$SERVER_PID" 30 "the server" || status=1
SERVER_PID=""
grep -h "recovered after an unclean stop" "$WORK/server.log" | sed 's/^/  recovery: /' | tail -n "$ROUNDS" || true

if [ "$PURGE" = 1 ]; then
    # One clean start more: recovery removes what a kill left moved aside, then it stops.
    start_server
    sleep 1
    stop_within "$SERVER_PID" 30 "the server" || status=1
    SERVER_PID=""
    grep "session purged" "$WORK/server.log" | grep -o 'herd.session=s-[A-Za-z0-9_-]*' | cut -d= -f2 | sort -u >"$WORK/purged.txt" || true
    purged=$(wc -l <"$WORK/purged.txt")
    echo "$purged sessions purged during the run, $(grep -c 'an interrupted purge was finished' "$WORK/server.log" || true) of the purges interrupted by a kill and finished by recovery"
    [ "$purged" -gt 0 ] || { echo "no purge happened: the test did not test purging"; status=1; }
    "$HERDLENS" session list --data "$DATA" --limit 100000 | cut -f1 | sort -u >"$WORK/listed.txt"
    back=$(comm -12 "$WORK/purged.txt" "$WORK/listed.txt" | wc -l)
    [ "$back" = 0 ] || { echo "purged sessions came back:"; comm -12 "$WORK/purged.txt" "$WORK/listed.txt"; status=1; }
    left=$(find "$DATA/recordings" -maxdepth 3 -name '.purge-*' | wc -l)
    [ "$left" = 0 ] || { echo "directories moved aside for a purge were left:"; find "$DATA/recordings" -maxdepth 3 -name '.purge-*'; status=1; }
    # Every session directory on disk is one the index lists (none rebuilt from a half-purged one).
    for dir in $(find "$DATA/recordings" -mindepth 2 -maxdepth 3 -type d -name 's-*'); do
        grep -qx "$(basename "$dir")" "$WORK/listed.txt" || { echo "a session directory the index does not list: $dir"; status=1; }
    done
fi
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
