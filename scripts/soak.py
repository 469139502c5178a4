#!/usr/bin/env python3
"""Soak: the real server under devices and viewers that come and go, its resources sampled.

  soak.py --herdlens PATH [--minutes 30] [--devices 8] [--fps 15] [--viewers 20] [--csv FILE]

Starts `herdlens serve` on a fresh data directory, `herdlens simulate --devices N` (one process, N
streams soak-01..soak-NN, with an ack log), and VIEWERS live sockets that each watch a random stream for
5-20 s, close, wait up to 3 s and join again, until the end. Every 5 s it samples the server's resident
memory, open file descriptors and threads (/proc), the frames acknowledged and the frames the viewers
received, into CSV. At the end: every acknowledged frame must be in the recording (check-recording.py),
and resident memory, descriptors and threads must be flat: the last third of the run may not exceed the
middle third (after a warm-up) by more than 15% + 24 MB of memory, 40 descriptors or 8 threads. Exit 0
when all hold. All traffic stays on 127.0.0.1, and the run ends by itself.
"""
import argparse
import csv
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from websockets.sync.client import connect


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def proc_sample(pid):
    """Resident MB (and its anonymous, file-backed and shared parts), descriptors, threads."""
    status = open(f"/proc/{pid}/status").read()
    field = lambda name: int(next(l for l in status.splitlines() if l.startswith(name + ":")).split()[1])
    mb = lambda name: round(field(name) / 1024, 1)
    return mb("VmRSS"), len(os.listdir(f"/proc/{pid}/fd")), field("Threads"), mb("RssAnon"), mb("RssFile"), mb("RssShmem")


class Viewers:
    """VIEWERS threads that join, watch and leave until `stop` is set."""

    def __init__(self, port, token, streams, count, deadline):
        self.port, self.token, self.streams, self.deadline = port, token, streams, deadline
        self.frames = 0
        self.sessions = 0
        self.errors = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(count)]

    def start(self):
        for t in self.threads:
            t.start()

    def run(self, i):
        rng = random.Random(i)
        while not self.stop.is_set():
            stream = rng.choice(self.streams)
            watch = rng.uniform(5, 20)
            url = f"ws://127.0.0.1:{self.port}/api/v1/live?stream={stream}&maxWidth=640"
            try:
                with connect(url, additional_headers={"Authorization": f"Bearer {self.token}"}, open_timeout=10,
                             max_size=8 << 20) as ws:
                    with self.lock:
                        self.sessions += 1
                    until = time.monotonic() + watch
                    while time.monotonic() < until and not self.stop.is_set():
                        try:
                            message = ws.recv(timeout=2)
                        except TimeoutError:
                            continue
                        if isinstance(message, bytes):
                            with self.lock:
                                self.frames += 1
            except Exception as e:  # a refused or dropped socket is counted, and the viewer joins again
                with self.lock:
                    self.errors.append(f"{type(e).__name__}: {e}")
            self.stop.wait(rng.uniform(0, 3))

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--herdlens", default=".build/debug/herdlens")
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--devices", type=int, default=8)
    ap.add_argument("--fps", type=float, default=15)
    ap.add_argument("--viewers", type=int, default=20)
    ap.add_argument("--csv", default=None, help="where the samples go (default: the work directory, printed)")
    ap.add_argument("--frames", default="SampleFrames/frames")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    herdlens = os.path.abspath(args.herdlens)
    work = tempfile.mkdtemp(prefix="herdlens-soak.")
    data = os.path.join(work, "data")
    port = free_port()
    streams = [f"soak-{i:02d}" for i in range(1, args.devices + 1)]
    run = lambda *a: subprocess.run([herdlens, *a], check=True, capture_output=True, text=True).stdout.strip()
    device_token = run("token", "issue", "--data", data, "--role", "device", "--stream", "*", "--name", "soak devices")
    viewer_token = run("token", "issue", "--data", data, "--role", "inspector", "--stream", "*", "--name", "soak viewers")
    config = os.path.join(work, "config.json")
    # Room for the run: all devices on one token, every viewer on one token; frames kept (no retention).
    with open(config, "w") as f:
        f.write('{"maxSocketsPerToken": %d, "recording": {"minFreeBytes": 0}}' % (args.devices + args.viewers + 8))
    server_log = open(os.path.join(work, "server.log"), "w")
    server = subprocess.Popen([herdlens, "serve", "--data", data, "--port", str(port), "--config", config, "--log-level", "warning"],
                              stdout=server_log, stderr=subprocess.STDOUT)
    device = None
    viewers = None
    status = 0
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2).read()
                break
            except Exception:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("server did not start: " + open(server_log.name).read()[-2000:])
                time.sleep(0.2)
        ack_log = os.path.join(work, "acked.txt")
        device = subprocess.Popen([herdlens, "simulate", "--server", f"ws://127.0.0.1:{port}", "--token", device_token,
                                   "--stream", "soak", "--devices", str(args.devices), "--fps", str(args.fps), "--loop",
                                   "--session", "--ack-log", ack_log, os.path.abspath(args.frames)],
                                  stdout=open(os.path.join(work, "devices.log"), "w"), stderr=subprocess.STDOUT)
        end = time.monotonic() + args.minutes * 60
        viewers = Viewers(port, viewer_token, streams, args.viewers, end)
        viewers.start()
        csv_path = args.csv or os.path.join(work, "soak.csv")
        samples = []
        started = time.monotonic()
        with open(csv_path, "w", newline="") as f:
            out = csv.writer(f)
            out.writerow(["seconds", "rss_mb", "fds", "threads", "frames_acked", "viewer_frames", "viewer_sessions",
                          "rss_anon_mb", "rss_file_mb", "rss_shmem_mb"])
            while time.monotonic() < end:
                if server.poll() is not None:
                    raise SystemExit(f"server exited with {server.returncode}")
                rss, fds, threads, anon, file_backed, shmem = proc_sample(server.pid)
                acked = sum(1 for _ in open(ack_log)) if os.path.exists(ack_log) else 0
                row = [round(time.monotonic() - started), rss, fds, threads, acked, viewers.frames, viewers.sessions, anon, file_backed, shmem]
                samples.append(row)
                out.writerow(row)
                f.flush()
                print(" ".join(f"{k}={v}" for k, v in zip(["t", "rss_mb", "fds", "threads", "acked", "viewer_frames", "viewer_sessions", "anon", "file", "shmem"], row)), flush=True)
                time.sleep(min(5, max(0, end - time.monotonic())))
        viewers.finish()
        device.send_signal(signal.SIGTERM)
        device.wait(timeout=30)
        device = None
        print(f"samples in {csv_path}")
        # Flat: the last third against the middle third (the first third is warm-up).
        n = len(samples)
        middle, last = samples[n // 3: 2 * n // 3], samples[2 * n // 3:]
        if len(middle) >= 2 and len(last) >= 2:
            for column, name, slack in [(1, "rss_mb", None), (2, "fds", 40), (3, "threads", 8)]:
                m = max(r[column] for r in middle)
                l = max(r[column] for r in last)
                limit = m * 1.15 + 24 if slack is None else m + slack
                verdict = "flat" if l <= limit else "GROWING"
                print(f"{name}: max {m} in the middle third, {l} in the last (limit {limit:.0f}): {verdict}")
                if l > limit:
                    status = 1
        else:
            print("too short a run to judge flatness (needs 6 samples)")
        rate = samples[-1][4] / max(1, samples[-1][0])
        print(f"acknowledged frames: {samples[-1][4]} ({rate:.1f}/s offered {args.devices * args.fps:.0f}/s); "
              f"viewer frames: {viewers.frames} over {viewers.sessions} viewer sessions; viewer errors: {len(viewers.errors)}")
        for e in sorted(set(viewers.errors))[:5]:
            print("  viewer error:", e)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        check = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "check-recording.py"), data, ack_log])
        if check.returncode != 0:
            status = 1
        if samples[-1][4] == 0 or viewers.frames == 0:
            print("no frame acknowledged or none viewed")
            status = 1
    finally:
        if viewers:
            viewers.finish()
        if device and device.poll() is None:
            device.kill()
        if server.poll() is None:
            server.kill()
        if args.keep or status:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("soak passed" if status == 0 else "soak FAILED")
    return status


if __name__ == "__main__":
    sys.exit(main())
