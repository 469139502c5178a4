#!/usr/bin/env python3
"""Faults against the real server, each while a device keeps sending (issue 12, item 3).

  fault-test.py --herdlens PATH [--only NAME ...]

Faults: disk-full (data directory on a small tmpfs that fills up, then freed), read-only (the data
directory's ext4 filesystem fails and turns read-only mid-recording; repaired, then the server restarted), sqlite-locked (another process holds an exclusive lock on the recording index),
sigstop (the server stopped for 10 s with a WebSocket device and a viewer connected), idle-sockets (5,000
connections that send nothing), slow-frame (a device that sends its frame one byte a second), silent-viewer
(a viewer that never reads). For each: the server answers the faulty traffic with documented errors,
keeps serving the others, recovers by itself once the fault ends, and loses no acknowledged frame (every
seq it acknowledged is in the recording, checked by check-recording.py, and every session verifies).
The storage faults need root (mount, loop devices); without them they are reported as skipped. Ends with one line
'fault tests: N passed, N failed'. All traffic stays on 127.0.0.1.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from websockets.sync.client import connect

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGE = open(os.path.join(ROOT, "SampleFrames/frames/pen-day-720p.jpg"), "rb").read()
ERROR_CODES = None  # the documented codes, read from Protocol/v1/README.md


def documented(code):
    global ERROR_CODES
    if ERROR_CODES is None:
        text = open(os.path.join(ROOT, "Protocol/v1/README.md")).read()
        ERROR_CODES = text
    return f"`{code}`" in ERROR_CODES


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


class Server:
    def __init__(self, herdlens, work, data, config=None):
        self.herdlens, self.work, self.data = herdlens, work, data
        self.port = free_port()
        os.makedirs(data, exist_ok=True)
        self.device = self.token("device", "fault dev")
        self.viewer = self.token("inspector", "fault viewer")
        cfg = {"recording": {"minFreeBytes": 0, "commitWindowSeconds": 0.01}}
        cfg.update(config or {})
        self.config = os.path.join(work, f"config-{self.port}.json")
        open(self.config, "w").write(json.dumps(cfg))
        self.log = open(os.path.join(work, f"server-{self.port}.log"), "w")
        self.proc = subprocess.Popen([herdlens, "serve", "--data", data, "--port", str(self.port), "--config", self.config,
                                      "--log-level", "notice"], stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(self.ready, 60, "the server to start")
        self.acked = {}  # stream -> set of seqs acknowledged over HTTP

    def token(self, role, name):
        return subprocess.run([self.herdlens, "token", "issue", "--data", self.data, "--role", role, "--stream", "*", "--name", name],
                              check=True, capture_output=True, text=True).stdout.strip()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def ready(self):
        try:
            return urllib.request.urlopen(self.url("/healthz"), timeout=2).status == 200
        except Exception:
            return False

    def post(self, stream, seq, timeout=10):
        """One frame over HTTP: (status, error code or None). A 201/200 is recorded as acknowledged."""
        b = "fault-boundary-7c1"
        meta = json.dumps({"type": "frame", "stream": stream, "seq": seq,
                           "capturedAt": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".000Z"})
        body = (f"--{b}\r\nContent-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\n\r\n{meta}\r\n"
                f"--{b}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"f.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").encode() \
            + IMAGE + f"\r\n--{b}--\r\n".encode()
        request = urllib.request.Request(self.url(f"/api/v1/streams/{stream}/frames"), data=body, method="POST", headers={
            "Authorization": f"Bearer {self.device}", "Content-Type": f"multipart/form-data; boundary={b}"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as r:
                self.acked.setdefault(stream, set()).add(seq)
                return r.status, None
        except urllib.error.HTTPError as e:
            try:
                code = json.loads(e.read())["error"]["code"]
            except Exception:
                code = "<no error body>"
            return e.code, code

    def ack_log(self):
        path = os.path.join(self.work, f"acked-{self.port}.txt")
        with open(path, "w") as f:
            for stream, seqs in self.acked.items():
                for seq in sorted(seqs):
                    f.write(f"{stream} {seq}\n")
        return path

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def check_evidence(self, extra_logs=()):
        """Stops the server, then: every acknowledged seq is recorded, every session verifies."""
        self.stop()
        logs = [self.ack_log(), *extra_logs]
        merged = os.path.join(self.work, f"acked-all-{self.port}.txt")
        with open(merged, "w") as out:
            for path in logs:
                if os.path.exists(path):
                    out.write(open(path).read())
        check = subprocess.run([sys.executable, os.path.join(ROOT, "scripts/check-recording.py"), self.data, merged],
                               capture_output=True, text=True)
        assert check.returncode == 0, "acknowledged frames missing: " + check.stdout[-1500:] + check.stderr[-500:]
        ids = subprocess.run([self.herdlens, "session", "list", "--data", self.data, "--limit", "500"], capture_output=True, text=True).stdout
        for line in ids.splitlines():
            session = line.split("\t")[0]
            if not session.startswith("s-"):
                continue
            verify = subprocess.run([self.herdlens, "verify", "--data", self.data, session], capture_output=True, text=True)
            assert verify.returncode == 0, f"session {session} does not verify: {verify.stdout[-800:]}"
        return sum(len(s) for s in self.acked.values())


class Tmpfs:
    def __init__(self, path, megabytes):
        self.path = path
        os.makedirs(path, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", path], check=True, capture_output=True)

    def remount(self, mode):
        subprocess.run(["mount", "-o", f"remount,{mode}", self.path], check=True, capture_output=True)

    def close(self):
        subprocess.run(["umount", "-l", self.path], capture_output=True)


class Ext4Image:
    """An ext4 filesystem in a file, loop-mounted with errors=remount-ro, so a filesystem error (triggered
    through sysfs, as a failing disk would) turns it read-only under the server's open files."""

    def __init__(self, work, name, megabytes):
        self.image = os.path.join(work, name + ".img")
        self.path = os.path.join(work, name)
        os.makedirs(self.path, exist_ok=True)
        with open(self.image, "wb") as f:
            f.truncate(megabytes << 20)
        subprocess.run(["mkfs.ext4", "-q", "-F", self.image], check=True, capture_output=True)
        self.mount()

    def mount(self):
        subprocess.run(["mount", "-o", "loop,errors=remount-ro", self.image, self.path], check=True, capture_output=True)

    def fail(self):
        source = subprocess.run(["findmnt", "-no", "SOURCE", self.path], check=True, capture_output=True, text=True).stdout.strip()
        with open(f"/sys/fs/ext4/{os.path.basename(source)}/trigger_fs_error", "w") as f:
            f.write("1")

    def repair(self):
        """What an operator does: unmount, fsck, mount again."""
        subprocess.run(["umount", self.path], check=True, capture_output=True)
        subprocess.run(["fsck.ext4", "-y", "-f", self.image], capture_output=True)
        self.mount()

    def close(self):
        subprocess.run(["umount", "-l", self.path], capture_output=True)


def can_mount(work):
    probe = os.path.join(work, "probe")
    try:
        Tmpfs(probe, 1).close()
        return True
    except Exception:
        return False


def can_loop_mount(work):
    try:
        Ext4Image(work, "probe-ext4", 8).close()
        return True
    except Exception:
        return False


def refused_while(server, stream, seq, frames=15):
    """Posts `frames` frames; returns the refusals by (status, code) and the last seq used."""
    refusals = {}
    for _ in range(frames):
        seq += 1
        status, code = server.post(stream, seq)
        if status not in (200, 201):
            refusals[(status, code)] = refusals.get((status, code), 0) + 1
    assert refusals, "no frame was refused while the storage could not be written"
    for (status, code) in refusals:
        assert documented(code), f"refusal {status} {code} is not a documented error code"
    # The server keeps serving what does not need the disk.
    assert server.ready(), "health check failed during the fault"
    assert urllib.request.urlopen(urllib.request.Request(server.url("/api/v1/streams"),
                                  headers={"Authorization": f"Bearer {server.viewer}"}), timeout=5).status == 200
    return refusals, seq


def acknowledged_again(server, stream, seq, seconds=60):
    def recovered():
        nonlocal seq
        seq += 1
        return server.post(stream, seq)[0] in (200, 201) or None
    wait_for(recovered, seconds, "frames to be acknowledged again after the fault")
    return seq


def disk_full(herdlens, work):
    """The data directory on a 48 MB tmpfs, filled up mid-recording, then freed."""
    mount = Tmpfs(os.path.join(work, "fs-full"), 48)
    server = None
    try:
        server = Server(herdlens, work, os.path.join(mount.path, "data"))
        seq = 0
        for _ in range(10):
            seq += 1
            assert server.post("full-cam", seq)[0] in (200, 201)
        filler = os.path.join(mount.path, "filler")
        with open(filler, "wb") as f:  # what is left, so the next frames meet ENOSPC for real
            try:
                while True:
                    f.write(b"\0" * (1 << 20))
                    f.flush()
            except OSError:
                pass
        refusals, seq = refused_while(server, "full-cam", seq)
        os.remove(filler)
        seq = acknowledged_again(server, "full-cam", seq)
        acked = server.check_evidence()
        return f"refused {sum(refusals.values())} frames as {sorted(refusals)}; recovered by itself once space was freed; {acked} acknowledged frames all recorded"
    finally:
        if server:
            server.stop()
        mount.close()


def read_only(herdlens, work):
    """The data directory's filesystem fails and turns read-only mid-recording (ext4 errors=remount-ro)."""
    fs = Ext4Image(work, "fs-ro", 96)
    server = None
    try:
        data = os.path.join(fs.path, "data")
        server = Server(herdlens, work, data)
        seq = 0
        for _ in range(10):
            seq += 1
            assert server.post("ro-cam", seq)[0] in (200, 201)
        fs.fail()
        refusals, seq = refused_while(server, "ro-cam", seq)
        acked_before = {k: set(v) for k, v in server.acked.items()}
        server.stop()
        stopped = server.proc.returncode
        # The operator repairs the filesystem and starts the server again; recovery runs at start.
        fs.repair()
        again = Server(herdlens, work, data)
        again.device, again.viewer = server.device, server.viewer
        again.acked = acked_before
        seq = acknowledged_again(again, "ro-cam", seq)
        acked = again.check_evidence()
        server = again
        return (f"refused {sum(refusals.values())} frames as {sorted(refusals)}; the server stopped cleanly (exit {stopped}); after "
                f"fsck and a restart it recorded again; {acked} acknowledged frames all recorded")
    finally:
        if server:
            server.stop()
        fs.close()


def sqlite_locked(herdlens, work):
    import sqlite3
    server = Server(herdlens, work, os.path.join(work, "data-locked"))
    seq = 0
    for _ in range(5):
        seq += 1
        assert server.post("lock-cam", seq)[0] in (200, 201)
    index = os.path.join(server.data, "recordings/index.sqlite")
    db = sqlite3.connect(index, timeout=1, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    outcomes = {}
    lock_until = time.monotonic() + 6
    while time.monotonic() < lock_until:
        seq += 1
        status, code = server.post("lock-cam", seq, timeout=30)
        outcomes[(status, code)] = outcomes.get((status, code), 0) + 1
    health = server.ready()
    db.execute("ROLLBACK")
    db.close()
    for (status, code) in outcomes:
        assert status in (200, 201) or documented(code), f"{status} {code} is not documented"
    assert health, "health check failed while the index was locked"
    def recovered():
        nonlocal seq
        seq += 1
        return server.post("lock-cam", seq)[0] in (200, 201) or None
    wait_for(recovered, 60, "frames to be acknowledged after the lock was released")
    acked = server.check_evidence()
    return f"while locked: {sorted(outcomes.items())}; recovered; {acked} acknowledged frames all recorded"


def sigstop(herdlens, work):
    server = Server(herdlens, work, os.path.join(work, "data-stop"))
    ack_log = os.path.join(work, "acked-sigstop-ws.txt")
    device = subprocess.Popen([herdlens, "simulate", "--server", f"ws://127.0.0.1:{server.port}", "--token", server.device,
                               "--stream", "stop-cam", "--fps", "10", "--loop", "--ack-log", ack_log,
                               os.path.join(ROOT, "SampleFrames/frames")],
                              stdout=open(os.path.join(work, "sigstop-device.log"), "w"), stderr=subprocess.STDOUT)
    frames = []
    stop = threading.Event()

    def viewer():
        while not stop.is_set():
            try:
                with connect(f"ws://127.0.0.1:{server.port}/api/v1/live?stream=stop-cam&maxWidth=320",
                             additional_headers={"Authorization": f"Bearer {server.viewer}"}, open_timeout=20) as ws:
                    while not stop.is_set():
                        try:
                            m = ws.recv(timeout=1)
                        except TimeoutError:
                            continue
                        if isinstance(m, bytes):
                            frames.append(time.monotonic())
            except Exception:
                stop.wait(0.5)
    t = threading.Thread(target=viewer, daemon=True)
    t.start()
    count = lambda: sum(1 for _ in open(ack_log)) if os.path.exists(ack_log) else 0
    try:
        wait_for(lambda: count() >= 10 and len(frames) >= 3, 60, "acks and viewer frames before the stop")
        server.proc.send_signal(signal.SIGSTOP)
        time.sleep(10)  # the fault itself: the server frozen for 10 s
        before = count()
        resumed = time.monotonic()
        server.proc.send_signal(signal.SIGCONT)
        wait_for(lambda: count() >= before + 10, 60, "device acks to resume after SIGCONT")
        acks_back = time.monotonic() - resumed
        wait_for(lambda: frames and frames[-1] > resumed, 60, "viewer frames to resume after SIGCONT")
        view_back = frames[-1] - resumed
    finally:
        stop.set()
        device.send_signal(signal.SIGTERM)
        try:
            device.wait(timeout=30)
        except subprocess.TimeoutExpired:
            device.kill()
    acked = server.check_evidence([ack_log])
    return f"acks resumed {acks_back:.1f} s and viewer frames {view_back:.1f} s after SIGCONT; {acked + count()} acknowledged frames all recorded"


def idle_sockets(herdlens, work, count=5000):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = count * 2 + 1024  # this script's sockets and the server's (which inherits the limit)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    if min(want, hard) < want:
        count = max(100, (hard - 1024) // 2)
    server = Server(herdlens, work, os.path.join(work, "data-idle"))
    server_fds = lambda: len(os.listdir(f"/proc/{server.proc.pid}/fd"))
    baseline = server_fds()
    sockets = []
    try:
        for i in range(count):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sockets.append(s)
        fds = len(os.listdir(f"/proc/{server.proc.pid}/fd"))
        start = time.monotonic()
        for seq in range(1, 6):
            status, code = server.post("idle-cam", seq, timeout=20)
            assert status in (200, 201), f"frame {seq} refused with {status} {code} beside {count} idle sockets"
        post_time = (time.monotonic() - start) / 5
        with connect(f"ws://127.0.0.1:{server.port}/api/v1/live?stream=idle-cam",
                     additional_headers={"Authorization": f"Bearer {server.viewer}"}, open_timeout=20) as ws:
            pass
        assert server.ready()
    finally:
        for s in sockets:
            s.close()
    closed = time.monotonic()
    wait_for(lambda: server_fds() <= baseline + 20, 90, f"the idle sockets' descriptors to be released (baseline {baseline})")
    after, released = server_fds(), time.monotonic() - closed
    acked = server.check_evidence()
    return (f"{count} idle sockets held ({fds} server fds, {baseline} before); frames acknowledged in {post_time * 1000:.0f} ms each "
            f"beside them; a viewer joined; fds back to {after} {released:.1f} s after the clients closed; {acked} frames recorded")


def slow_frame(herdlens, work):
    """A device that upgrades, then sends its binary frame one byte a second."""
    server = Server(herdlens, work, os.path.join(work, "data-slow"), {"webSocketPingSeconds": 3})
    s = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    s.sendall((f"GET /api/v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
               f"Authorization: Bearer {server.device}\r\n\r\n").encode())
    head = s.recv(4096)
    assert head.startswith(b"HTTP/1.1 101"), head[:200]
    # A masked binary frame header announcing 100,000 bytes, then one byte a second.
    s.sendall(bytes([0x82, 0xFF]) + (100_000).to_bytes(8, "big") + b"\x01\x02\x03\x04")
    closed_after = None
    start = time.monotonic()
    seq = 0
    try:
        s.settimeout(0)
        while time.monotonic() - start < 20:
            try:
                s.send(b"\x00")
            except OSError:
                closed_after = time.monotonic() - start
                break
            seq += 1
            status, code = server.post("slow-other", seq)
            assert status in (200, 201), f"another device refused ({status} {code}) beside the slow one"
            try:
                if s.recv(4096) == b"":
                    closed_after = time.monotonic() - start
                    break
            except BlockingIOError:
                pass
            time.sleep(1)
    finally:
        s.close()
    acked = server.check_evidence()
    assert closed_after, "the server still held the slow sender's socket after 20 s (webSocketPingSeconds 3)"
    fate = f"closed by the server after {closed_after:.0f} s (unanswered ping, webSocketPingSeconds 3)"
    return f"slow sender {fate}; the other device had {seq} frames acknowledged meanwhile; {acked} frames recorded"


def silent_viewer(herdlens, work):
    """A viewer that never reads, beside one that does, while a device sends."""
    server = Server(herdlens, work, os.path.join(work, "data-silent"))
    silent = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    silent.sendall((f"GET /api/v1/live?stream=silent-cam HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                    f"Authorization: Bearer {server.viewer}\r\n\r\n").encode())
    got = 0
    with connect(f"ws://127.0.0.1:{server.port}/api/v1/live?stream=silent-cam",
                 additional_headers={"Authorization": f"Bearer {server.viewer}"}, open_timeout=20) as ws:
        for seq in range(1, 61):
            status, code = server.post("silent-cam", seq)
            assert status in (200, 201), f"frame {seq}: {status} {code}"
            try:
                while True:
                    m = ws.recv(timeout=0.05)
                    if isinstance(m, bytes):
                        got += 1
            except TimeoutError:
                pass
    silent.close()
    assert got >= 30, f"the reading viewer got only {got} of 60 frames beside a silent one"
    acked = server.check_evidence()
    return f"the reading viewer got {got} of 60 frames beside a viewer that never read; {acked} frames recorded"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--herdlens", default=".build/debug/herdlens")
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    herdlens = os.path.abspath(args.herdlens)
    work = tempfile.mkdtemp(prefix="herdlens-faults.")
    mountable = {"tmpfs": can_mount(work), "ext4": can_loop_mount(work), None: True}
    faults = [
        ("disk-full", lambda: disk_full(herdlens, work), "tmpfs"),
        ("read-only", lambda: read_only(herdlens, work), "ext4"),
        ("sqlite-locked", lambda: sqlite_locked(herdlens, work), None),
        ("sigstop", lambda: sigstop(herdlens, work), None),
        ("idle-sockets", lambda: idle_sockets(herdlens, work), None),
        ("slow-frame", lambda: slow_frame(herdlens, work), None),
        ("silent-viewer", lambda: silent_viewer(herdlens, work), None),
    ]
    passed = failed = skipped = 0
    for name, run, needs in faults:
        if args.only and name not in args.only:
            continue
        if not mountable[needs]:
            print(f"SKIP {name}: cannot mount {'a tmpfs' if needs == 'tmpfs' else 'an ext4 image on a loop device'} here (needs root)", flush=True)
            skipped += 1
            continue
        start = time.monotonic()
        try:
            detail = run()
            print(f"PASS {name} ({time.monotonic() - start:.0f} s): {detail}", flush=True)
            passed += 1
        except Exception as e:
            print(f"FAIL {name} ({time.monotonic() - start:.0f} s): {type(e).__name__}: {e}", flush=True)
            failed += 1
    if failed:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    print(f"fault tests: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
