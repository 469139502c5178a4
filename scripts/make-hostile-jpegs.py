#!/usr/bin/env python3
"""Writes SampleFrames/hostile/: JPEGs that other decoders open but that once broke HerdLens's
coefficient path (issue 7). Each must compose: the transcoder refuses it as `unsupported` and the pixel
path renders it. Also writes the neighbouring shapes that must be refused into SampleFrames/malformed/
(name = error code, `--`, what it is). Needs cjpeg (Debian libjpeg-turbo-progs) and Pillow.

    python3 scripts/make-hostile-jpegs.py [--out SampleFrames]

Inputs found by the fuzzers are kept in Fuzz/regressions/.
"""
import argparse
import os
import subprocess
import tempfile

from PIL import Image


def segments(data):
    """(marker, start, end) for every marker segment; a scan's segment runs to the next real marker."""
    out, i = [], 2
    while i < len(data):
        if data[i] != 0xFF:
            raise ValueError(f"no marker at {i}")
        marker = data[i + 1]
        if marker == 0xD9:
            out.append((marker, i, i + 2))
            break
        end = i + 2 + ((data[i + 2] << 8) | data[i + 3])
        if marker == 0xDA:
            while not (data[end] == 0xFF and data[end + 1] != 0 and not 0xD0 <= data[end + 1] <= 0xD7):
                end += 1
        out.append((marker, i, end))
        i = end
    return out


def cjpeg(ppm, scans, extra=()):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write(scans)
    try:
        return subprocess.run(["cjpeg", "-quality", "85", "-sample", "2x2,1x1,1x1", *extra, "-scans", f.name, ppm],
                              check=True, capture_output=True).stdout
    finally:
        os.unlink(f.name)


def drop_scan(data, index):
    """The file without its index-th scan (0-based)."""
    scans = [(s, e) for m, s, e in segments(data) if m == 0xDA]
    s, e = scans[index]
    return data[:s] + data[e:]


def zero_quant_step(data, table=0, zigzag_index=5):
    """Sets one step of quantization table `table` to 0 (8-bit tables)."""
    out = bytearray(data)
    for marker, s, e in segments(data):
        if marker != 0xDB:
            continue
        p = s + 4
        while p < e:
            pq, tq = out[p] >> 4, out[p] & 15
            if tq == table and pq == 0:
                out[p + 1 + zigzag_index] = 0
                return bytes(out)
            p += 1 + 64 * (2 if pq else 1)
    raise ValueError("table not found")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "SampleFrames"))
    a = ap.parse_args()
    d = os.path.join(a.out, "hostile")
    os.makedirs(d, exist_ok=True)
    src = os.path.join(a.out, "variants", "jpeg-420-baseline.jpg")
    with tempfile.TemporaryDirectory() as tmp:
        ppm = os.path.join(tmp, "src.ppm")
        Image.open(src).convert("RGB").save(ppm)
        # Sequential, one scan per component; the Cr scan removed: Cr's quantization table is never latched.
        seq = cjpeg(ppm, "0;\n1;\n2;\n")
        files = {"jpeg-component-never-scanned.jpg": drop_scan(seq, 2)}
        # Progressive: the DC scan covers Y and Cb only, and no AC scan covers Cr.
        prog = cjpeg(ppm, "0,1: 0-0, 0, 0;\n0: 1-63, 0, 0;\n1: 1-63, 0, 0;\n2: 0-0, 0, 0;\n", ["-progressive"])
        files["jpeg-progressive-component-never-scanned.jpg"] = drop_scan(prog, 3)
        # A zero step in the luma table (what makes the re-quantization infinite, then NaN).
        files["jpeg-zero-quant-step.jpg"] = zero_quant_step(open(src, "rb").read())
        # Zero steps in every table, DC included.
        every = open(src, "rb").read()
        for table in (0, 1):
            every = zero_quant_step(every, table, 0)
        files["jpeg-zero-dc-quant-steps.jpg"] = every
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        Image.open(os.path.join(d, name)).load()  # other decoders open it
        print(f"{name}: {len(data)} bytes")
    good = open(src, "rb").read()
    refused = {
        # The SOF names quantization table 3, which no DQT defines.
        "corrupt--jpeg-undefined-quant-table.jpg": retable_component(good, 0, 3),
        # No scan at all: SOF, then EOI.
        "corrupt--jpeg-no-scan.jpg": no_scans(good),
    }
    m = os.path.join(a.out, "malformed")
    for name, data in refused.items():
        with open(os.path.join(m, name), "wb") as f:
            f.write(data)
        print(f"malformed/{name}: {len(data)} bytes")


def retable_component(data, component, table):
    """The SOF's component `component` pointed at quantization table `table`."""
    out = bytearray(data)
    for marker, s, e in segments(data):
        if marker in (0xC0, 0xC1, 0xC2):
            out[s + 10 + 3 * component + 2] = table
            return bytes(out)
    raise ValueError("no SOF")


def no_scans(data):
    """Everything before the first scan, then EOI."""
    first = next(s for m, s, e in segments(data) if m == 0xDA)
    return data[:first] + b"\xff\xd9"


if __name__ == "__main__":
    main()
