#!/usr/bin/env python3
"""Independent reader of a HerdLens recording (format in docs/recording.md), for the crash test.

  check-recording.py DATA_DIR ACK_LOG

Every 'STREAM SEQ' line of ACK_LOG (what the server acknowledged) must be in the index
(recordings/index.sqlite) and its record readable where the index says: framed length, CRC32C of the
body, SHA-256 chain hash, kind 'frame' with that seq. Exit 0 when all are; 1 otherwise (each miss printed).
Written from the format description, not from the Swift code, so it checks the documentation too.
"""
import hashlib
import json
import sqlite3
import struct
import sys

POLY = 0x82F63B78
TABLE = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ POLY if c & 1 else c >> 1
    TABLE.append(c)


try:
    # The `crc32c` package from PyPI, where it is installed (a C implementation: the pure Python below
    # reads about 10 MB/s, too slow for the soak's tens of gigabytes); the same function either way.
    from crc32c import crc32c as fast_crc32c
except ImportError:
    fast_crc32c = None


def crc32c(data: bytes) -> int:
    if fast_crc32c is not None:
        return fast_crc32c(data)
    crc = 0xFFFFFFFF
    for b in data:
        crc = (crc >> 8) ^ TABLE[(crc ^ b) & 0xFF]
    return crc ^ 0xFFFFFFFF


def read_record(path: str, offset: int):
    with open(path, "rb") as f:
        f.seek(offset)
        head = f.read(8)
        if len(head) < 8:
            return None, "truncated frame header"
        length, crc = struct.unpack("<II", head)
        body = f.read(length)
    if len(body) < length:
        return None, "truncated body"
    if crc32c(body) != crc:
        return None, "CRC32C mismatch"
    kind, version, _flags, index = struct.unpack("<BBHQ", body[:12])
    prev, stored = body[12:44], body[44:76]
    if hashlib.sha256(body[:44] + body[76:]).digest() != stored:
        return None, "SHA-256 mismatch"
    (meta_len,) = struct.unpack("<I", body[76:80])
    meta = json.loads(body[80:80 + meta_len])
    return {"kind": kind, "index": index, "meta": meta}, None


def main() -> int:
    data, ack_log = sys.argv[1], sys.argv[2]
    db = sqlite3.connect(f"file:{data}/recordings/index.sqlite?mode=ro", uri=True)
    acked = set()
    with open(ack_log) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                acked.add((parts[0], int(parts[1])))
    bad = 0
    for stream, seq in sorted(acked):
        row = db.execute("SELECT session, segment, offset FROM frames WHERE stream = ? AND seq = ?", (stream, seq)).fetchone()
        if row is None:
            print(f"MISSING {stream} seq {seq}: acknowledged but not in the index")
            bad += 1
            continue
        session, segment, offset = row
        record, why = read_record(f"{data}/recordings/{stream}/{session}/segment-{segment:06d}.hlr", offset)
        if record is None or record["kind"] != 2 or record["meta"].get("seq") != seq:
            print(f"UNREADABLE {stream} seq {seq} (session {session}, segment {segment}, offset {offset}): {why or record}")
            bad += 1
    print(f"{len(acked)} acknowledged frames checked, {bad} missing or unreadable")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
