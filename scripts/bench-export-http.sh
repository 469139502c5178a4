#!/usr/bin/env bash
# Export as an auditor meets it: a one-hour 15 fps 720p session (`herdlens bench replay --keep`, which
# also measures the file exports and a plain copy in the same run), then the real server on that data
# directory and curl as the client: GET /api/v1/sessions/{id}/export?format=bundle|mcap streamed to a
# client that discards it (what the server can send), and to a file on the same disk (what the disk
# allows), then `herdlens verify` on the downloaded bundle with the pinned key.
#
#   scripts/bench-export-http.sh [MINUTES] [DIR]     (default 60 and .build-bench; release build required)
#
# As root, the page cache is dropped before each HTTP export (so the session is read from the disk, as an
# export of an old session is); elsewhere the session may still be cached from its recording.
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES="${1:-60}"
DIR="${2:-.build-bench}"
HERDLENS="${HERDLENS:-.build/release/herdlens}"
[ -x "$HERDLENS" ] || { echo "build first: swift build -c release" >&2; exit 64; }
DATA="$DIR/http-export"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
SERVER_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
    [ "${KEEP:-0}" = 1 ] || rm -rf "$DATA"
}
trap cleanup EXIT
rm -rf "$DATA"
mkdir -p "$DIR"

"$HERDLENS" bench replay --minutes "$MINUTES" --seeks 200 --compose 30 --dir "$DIR" --keep "$DATA" | tee "$DIR/bench-replay.txt"
SESSION="$(sed -n 's/^kept session: //p' "$DIR/bench-replay.txt")"
[ -n "$SESSION" ] || { echo "no session id in the bench's output" >&2; exit 1; }
TOKEN="$("$HERDLENS" token issue --data "$DATA" --role auditor --stream '*' --name "export bench")"
"$HERDLENS" key export --data "$DATA" > "$DIR/recording.pub"

"$HERDLENS" serve --data "$DATA" --port "$PORT" --log-level warning > "$DIR/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 600); do
    curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null || { echo "server not ready"; tail -20 "$DIR/server.log"; exit 1; }

cold() { # drop the page cache when allowed; says which
    if sync && { echo 3 > /proc/sys/vm/drop_caches; } 2>/dev/null; then echo "page cache dropped first"; else echo "page cache not dropped"; fi
}

fetch() { # format destination label
    local out cache
    cache="$(cold)"
    out="$(curl -fsS -H "Authorization: Bearer $TOKEN" -o "$2" -w '%{size_download} %{time_total} %{time_starttransfer}' \
        "http://127.0.0.1:$PORT/api/v1/sessions/$SESSION/export?format=$1")"
    read -r bytes total first <<<"$out"
    python3 -c 'import sys; b,t,f=float(sys.argv[1]),float(sys.argv[2]),float(sys.argv[3]); print(f"HTTP {sys.argv[4]} export {sys.argv[5]}: {b/1e9:.2f} GB in {t:.1f} s = {b/1e6/t:.0f} MB/s (first byte after {f*1000:.0f} ms; {sys.argv[6]})")' \
        "$bytes" "$total" "$first" "$1" "$3" "$cache"
}
fetch bundle /dev/null "to a client that discards it"
fetch bundle "$DIR/http-export.zip" "to a file on the same disk"
RSS="$(awk '/VmHWM/ {print $2/1024 " MB"}' "/proc/$SERVER_PID/status")"
echo "server peak RSS after the bundle exports: $RSS"
start=$(date +%s.%N)
"$HERDLENS" verify --key "$DIR/recording.pub" "$DIR/http-export.zip" | tail -1
echo "verify of the downloaded bundle: $(python3 -c "import time; print(f'{time.time()-$start:.1f} s')")"
rm -f "$DIR/http-export.zip"
fetch mcap /dev/null "to a client that discards it"
