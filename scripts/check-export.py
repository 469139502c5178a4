#!/usr/bin/env python3
"""Export checked the way an auditor's tools meet it: a real server records a simulated device's session,
then `herdlens export` writes MCAP (read back with the Python `mcap` package: channels, schemas, message
counts, order, times) and an evidence bundle (read with Python's zipfile, verified by `herdlens verify`
pinned by key and by fingerprint, unpinned (exit 4), and tampered (exit 1, the entry named)); the audit
log verifies with `herdlens audit verify`, and a changed byte in it is found.

    python3 scripts/check-export.py [--herdlens .build/debug/herdlens]
"""
import argparse
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request
import zipfile

from mcap.reader import make_reader

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
failed = 0
passed = 0


def check(condition, what):
    global failed, passed
    if condition:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}", file=sys.stderr)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--herdlens", default=os.path.join(ROOT, ".build", "debug", "herdlens"))
    a = p.parse_args()
    herdlens = os.path.abspath(a.herdlens)
    work = tempfile.mkdtemp(prefix="herd-export-")
    data = os.path.join(work, "data")

    def run(*args, check_rc=True):
        r = subprocess.run([herdlens, *args], capture_output=True, text=True, cwd=ROOT, timeout=300)
        if check_rc and r.returncode != 0:
            raise SystemExit(f"herdlens {' '.join(args)} exited {r.returncode}: {r.stderr}")
        return r

    server = None
    try:
        device = run("token", "issue", "--data", data, "--role", "device", "--stream", "pen-7.cam-1").stdout.strip()
        auditor = run("token", "issue", "--data", data, "--role", "auditor", "--name", "Auditor Lee").stdout.strip()
        server = subprocess.Popen([herdlens, "serve", "--data", data, "--port", "0", "--log-level", "warning"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
        port = int(server.stdout.readline().strip().rsplit(":", 1)[1])
        run("simulate", "--server", f"ws://127.0.0.1:{port}", "--token", device, "--stream", "pen-7.cam-1", "--fps", "30",
            "--session", "SampleFrames/frames")
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/sessions?stream=pen-7.cam-1",
                                     headers={"Authorization": f"Bearer {auditor}"})
        sessions = json.load(urllib.request.urlopen(req, timeout=30))["sessions"]
        check(len(sessions) == 1, f"one session recorded: {sessions}")
        session = sessions[0]["id"]
        frames = sessions[0]["frames"]
        check(frames == 8, f"8 sample frames recorded, got {frames}")
        # Export while the server runs (the CLI reads beside it), then stop it.
        mcap_path = os.path.join(work, "session.mcap")
        run("export", "--data", data, "--format", "mcap", "--output", mcap_path, session)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        server = None

        # MCAP read back.
        with open(mcap_path, "rb") as f:
            reader = make_reader(f)
            summary = reader.get_summary()
            check(summary is not None and summary.statistics is not None, "MCAP has a summary section with statistics")
            topics = {c.topic: c for c in summary.channels.values()}
            schemas = {s.id: s.name for s in summary.schemas.values()}
            for topic, schema in [("/pen-7.cam-1/image", "foxglove.CompressedImage"), ("/pen-7.cam-1/annotations", "foxglove.ImageAnnotations"),
                                  ("/pen-7.cam-1/sensors", "herdlens.Telemetry"), ("/pen-7.cam-1/alerts", "herdlens.Alerts"),
                                  ("/pen-7.cam-1/events", "herdlens.SessionEvent")]:
                check(topic in topics and schemas.get(topics[topic].schema_id) == schema and topics[topic].message_encoding == "json",
                      f"channel {topic} ({schema}, json)")
            check(len(summary.chunk_indexes) >= 1, "chunked and indexed")
            counts = {}
            last_log = 0
            in_order = True
            times_ok = True
            for schema, channel, message in reader.iter_messages(log_time_order=False):
                counts[channel.topic] = counts.get(channel.topic, 0) + 1
                if message.log_time < last_log:
                    in_order = False
                last_log = message.log_time
                if channel.topic.endswith("/image"):
                    body = json.loads(message.data)
                    image = base64.b64decode(body["data"])
                    magic = b"\xff\xd8" if body["format"] == "jpeg" else b"\x89PNG"
                    stamp = body["timestamp"]["sec"] * 1_000_000_000 + body["timestamp"]["nsec"]
                    if body["format"] not in ("jpeg", "png") or not image.startswith(magic) or body["frame_id"] != "pen-7.cam-1" \
                            or stamp != message.publish_time:
                        times_ok = False
                    if message.publish_time > message.log_time:
                        times_ok = False
            check(counts.get("/pen-7.cam-1/image") == frames, f"one image per frame: {counts}")
            check(counts.get("/pen-7.cam-1/annotations") == frames, f"one annotation set per frame: {counts}")
            check(counts.get("/pen-7.cam-1/events", 0) >= 3, f"session opened, checkpoint(s), closed: {counts}")
            check(summary.statistics.message_count == sum(counts.values()), "statistics count every message")
            check(in_order, "messages in log-time order")
            check(times_ok, "publish time (capture) never after log time (receive); images carry their bytes, format, frame id and capture time")

        # Bundle.
        bundle = os.path.join(work, "session.zip")
        run("export", "--data", data, "--format", "bundle", "--output", bundle, session)
        with zipfile.ZipFile(bundle) as z:
            check(z.testzip() is None, "every entry's CRC-32 holds (Python zipfile)")
            names = set(z.namelist())
            for required in ["README.txt", "bundle.json", "bundle.sig", "recording.pub", "audit.jsonl",
                             f"sessions/{session}/chain.jsonl", f"sessions/{session}/annotations.jsonl", f"sessions/{session}/events.jsonl"]:
                check(required in names, f"bundle holds {required}")
            jpgs = [n for n in names if n.startswith(f"sessions/{session}/frames/") and (n.endswith(".jpg") or n.endswith(".png"))]
            check(len(jpgs) == frames, f"every original frame in the bundle ({len(jpgs)})")
            audit_lines = [json.loads(line) for line in z.read("audit.jsonl").decode().splitlines()]
            check(any(e["action"] == "export" and e["actor"].startswith("local:") for e in audit_lines), "the bundle carries its own export entry, by the local user")
        key = run("key", "export", "--data", data, "--json").stdout
        key_file = os.path.join(work, "recording.json")
        open(key_file, "w").write(key)
        key_id = json.loads(key)["keyId"]
        # Offline: no data directory.
        r = run("verify", "--key", key_file, bundle, check_rc=False)
        check(r.returncode == 0 and r.stdout.startswith("OK"), f"pinned by key: exit {r.returncode} {r.stdout}")
        r = run("verify", "--fingerprint", key_id, bundle, check_rc=False)
        check(r.returncode == 0, f"pinned by fingerprint: exit {r.returncode} {r.stdout}")
        r = run("verify", bundle, check_rc=False)
        check(r.returncode == 4 and "NOT PINNED" in r.stdout and key_id in r.stdout, f"unpinned: exit {r.returncode} {r.stdout}")
        # Tamper: one frame's bytes changed, rewritten into a new archive with a fresh (valid) CRC.
        tampered = os.path.join(work, "tampered.zip")
        victim = sorted(jpgs)[3]
        with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(tampered, "w", zipfile.ZIP_STORED) as dst:
            for info in src.infolist():
                content = src.read(info.filename)
                if info.filename == victim:
                    content = content[:1000] + bytes([content[1000] ^ 0x01]) + content[1001:]
                dst.writestr(info, content)
        r = run("verify", "--key", key_file, tampered, check_rc=False)
        check(r.returncode == 1 and victim in r.stdout, f"tampered entry named: exit {r.returncode} {r.stdout}")

        # The audit log (a session verified from the data directory is audited; a bundle, offline, is not).
        r = run("verify", "--data", data, session, check_rc=False)
        check(r.returncode == 0, f"session verifies: {r.stdout}")
        r = run("audit", "verify", "--data", data, check_rc=False)
        check(r.returncode == 0 and r.stdout.startswith("OK"), f"audit verify: {r.stdout} {r.stderr}")
        listing = [json.loads(line) for line in run("audit", "list", "--data", data).stdout.splitlines()]
        actions = {e["action"] for e in listing}
        for action in ["token.issue", "export", "verify"]:
            check(action in actions, f"audit log holds {action}: {sorted(actions)}")
        segment = os.path.join(data, "audit", "segment-000001.hlr")
        raw = bytearray(open(segment, "rb").read())
        at = raw.find(b'"action":"export"')
        raw[at + 11] ^= 0x20
        open(segment, "wb").write(bytes(raw))
        r = run("audit", "verify", "--data", data, check_rc=False)
        check(r.returncode == 1 and "altered" in r.stdout, f"a changed audit byte is found: exit {r.returncode} {r.stdout}")
    finally:
        if server:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)
    print(f"export checks: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
