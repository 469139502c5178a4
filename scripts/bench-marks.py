#!/usr/bin/env python3
"""Mark latency on loopback: a real `herdlens serve`, one field device sending 720p frames at --fps, two
inspectors on the stream. Inspector A places a mark; the script times, on one clock, when inspector B
hears of it (the `mark` event), when the device's ingest socket receives it, and when the first frame
carrying it reaches B. Then A clears it. Prints p50/p99/max per path. Needs websocket-client (pip).

    python3 scripts/bench-marks.py --herdlens .build/release/herdlens [--marks 300] [--fps 15]
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import threading
import time

import websocket

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STREAM = "bench.cam-1"


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] if s else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--herdlens", default=os.path.join(ROOT, ".build", "release", "herdlens"))
    ap.add_argument("--marks", type=int, default=300)
    ap.add_argument("--fps", type=float, default=15)
    ap.add_argument("--frame", default=os.path.join(ROOT, "SampleFrames", "frames", "pen-day-720p.jpg"))
    a = ap.parse_args()
    data = tempfile.mkdtemp(prefix="herd-bench-marks-")
    issue = lambda *args: subprocess.run([a.herdlens, "token", "issue", "--data", data, *args], check=True, capture_output=True, text=True).stdout.strip()
    inspector = issue("--role", "inspector", "--stream", "*", "--name", "bench A")
    device = issue("--role", "device", "--stream", STREAM, "--name", "bench glasses")
    config = os.path.join(data, "server.json")
    with open(config, "w") as f:
        json.dump({"marksPerSecondPerSocket": 1000, "markBurst": 1000, "framesPerSecondPerDevice": 1000, "frameBurst": 1000}, f)
    server = subprocess.Popen([a.herdlens, "serve", "--data", data, "--port", "0", "--config", config, "--log-level", "error"],
                              stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline().strip().rsplit(":", 1)[1])
    image = open(a.frame, "rb").read()
    auth = lambda token: [f"Authorization: Bearer {token}"]
    url = f"ws://127.0.0.1:{port}/api/v1"
    placed, heard, on_device, on_frame = {}, {}, {}, {}
    lock, stop = threading.Lock(), threading.Event()

    dev = websocket.create_connection(f"{url}/ingest", header=auth(device))
    b = websocket.create_connection(f"{url}/live?stream={STREAM}&overlay=false", header=auth(inspector))
    inspector_a = websocket.create_connection(f"{url}/live?stream={STREAM}&overlay=false", header=auth(inspector))

    def send_frames():
        seq = 0
        while not stop.is_set():
            seq += 1
            header = json.dumps({"type": "frame", "stream": STREAM, "seq": seq, "capturedAt": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())}).encode()
            dev.send_binary(struct.pack(">I", len(header)) + header + image)
            time.sleep(1 / a.fps)

    def read_device():
        while not stop.is_set():
            try:
                m = dev.recv()
            except Exception:
                return
            now = time.perf_counter()
            if isinstance(m, str) and '"type":"mark"' in m:
                mark = json.loads(m)
                with lock:
                    on_device.setdefault(mark["id"], now)
                dev.send(json.dumps({"type": "mark.ack", "id": mark["id"]}))

    def read_viewer(ws, seen_frames):
        while not stop.is_set():
            try:
                m = ws.recv()
            except Exception:
                return
            now = time.perf_counter()
            if not m:
                continue
            if isinstance(m, str):
                e = json.loads(m)
                if e.get("event") == "mark":
                    with lock:
                        heard.setdefault(e["mark"]["id"], now)
            elif seen_frames:
                n = struct.unpack(">I", m[:4])[0]
                header = json.loads(m[4:4 + n])
                with lock:
                    for item in header.get("annotations", []):
                        if item.get("source") == "inspector" and item.get("id"):
                            on_frame.setdefault(item["id"], now)

    threads = [threading.Thread(target=f, daemon=True) for f in (send_frames, read_device)]
    threads.append(threading.Thread(target=read_viewer, args=(b, True), daemon=True))
    threads.append(threading.Thread(target=lambda: [inspector_a.recv() for _ in iter(int, 1)], daemon=True))
    for t in threads:
        t.start()
    time.sleep(2)  # the stream online, frames flowing
    for i in range(a.marks):
        mark_id = f"bench-{i}"
        with lock:
            placed[mark_id] = time.perf_counter()
        inspector_a.send(json.dumps({"type": "mark", "stream": STREAM, "kind": "arrow", "points": [[100, 100], [300 + i % 200, 260]], "id": mark_id}))
        deadline = time.time() + 5
        while time.time() < deadline:
            with lock:
                if mark_id in heard and mark_id in on_device and mark_id in on_frame:
                    break
            time.sleep(0.001)
        inspector_a.send(json.dumps({"type": "mark.clear", "id": mark_id}))
        time.sleep(0.02 + (i % 7) * 0.011)  # marks land at different points of the frame interval
    stop.set()
    server.terminate()
    server.wait(10)

    print(f"herdlens bench marks: {a.marks} marks, device at {a.fps:g} fps (720p), loopback")
    print("path                              n    p50 ms   p99 ms   max ms")
    for name, got in (("inspector A -> inspector B (event)", heard), ("inspector A -> device socket", on_device),
                      ("inspector A -> B's next frame", on_frame)):
        ms = [1000 * (got[k] - placed[k]) for k in placed if k in got]
        print(f"{name:32s} {len(ms):4d} {pct(ms, 50):8.2f} {pct(ms, 99):8.2f} {max(ms) if ms else float('nan'):8.2f}")
    missing = [k for k in placed if k not in heard or k not in on_device]
    if missing:
        print(f"missing: {len(missing)} marks not delivered", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
