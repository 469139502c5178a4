#!/usr/bin/env python3
"""Remakes SampleFrames/ from the licensed pen photographs in ../shared/frames.

    python3 scripts/make-sampleframes.py [--source ../shared/frames] [--out SampleFrames]
    python3 scripts/make-sampleframes.py --bench DIR --count 120 [--size 1280x720]

Needs Pillow (pip install pillow). Output is deterministic for a given source and Pillow version.
The default run writes camera-sized frames with sensor and annotation sidecars, codec variants, and
the malformed set; --bench writes COUNT frames for benchmarks (a slow simulated pan over the photos).
"""
import argparse
import io
import json
import os
import random
import struct
import zlib

from PIL import Image

SOURCES = {
    "pen-day": "pigdetect_demo_image1.jpg",
    "pen-night": "pigdetect_demo_image2.jpg",
}
TILES = [f"amp_grid1_tile{i:02d}.png" for i in range(7)]


def load_boxes(source):
    """Ground-truth boxes per file from ground_truth.csv: {file: [(x0, y0, x1, y1), ...]}."""
    boxes = {}
    with open(os.path.join(source, "ground_truth.csv")) as f:
        next(f)
        for line in f:
            parts = line.strip().split('"')
            name = parts[0].split(",")[0]
            raw = parts[1] if len(parts) > 1 else ""
            boxes[name] = [tuple(float(v) for v in b.split(",")) for b in raw.split(";") if b]
    return boxes


def cover(img, width, height, focus=(0.5, 0.5)):
    """Scale to cover width x height, then crop around focus. Returns image, scale, (dx, dy) offset."""
    scale = max(width / img.width, height / img.height)
    sw, sh = round(img.width * scale), round(img.height * scale)
    scaled = img.resize((sw, sh), Image.LANCZOS)
    dx = round((sw - width) * focus[0])
    dy = round((sh - height) * focus[1])
    return scaled.crop((dx, dy, dx + width, dy + height)), scale, (dx, dy)


def save_jpeg(img, path, quality=85, subsampling=2, progressive=False, exif=None):
    kwargs = dict(quality=quality, subsampling=subsampling, progressive=progressive, optimize=False)
    if exif is not None:
        kwargs["exif"] = exif
    img.save(path, "JPEG", **kwargs)


def sensors(name, seq, rng, width, height):
    """A frame header as a field device sends it (see Protocol/v1/frame-header.schema.json)."""
    lat, lon = 22.5431 + rng.uniform(-0.01, 0.01), 114.0579 + rng.uniform(-0.01, 0.01)
    return {
        "type": "frame",
        "stream": "farm-jx-017.cam-1",
        "seq": seq,
        "capturedAt": f"2026-11-20T08:{15 + seq // 60:02d}:{seq % 60:02d}.250+08:00",
        "sensors": {
            "gps": {"lat": round(lat, 6), "lon": round(lon, 6), "accuracyM": 4.5},
            "truck": {"temperatureC": round(rng.uniform(14, 24), 1), "humidityPct": round(rng.uniform(55, 80), 1)},
            "seal": {"id": "EL-88213", "state": "locked" if "night" not in name else "open"},
            "earTags": [f"CN36{rng.randrange(10**9, 10**10)}" for _ in range(3)],
            "consignment": {
                "id": "HK-2026-11-20-0042",
                "declaredHeadCount": 100,
                "farm": "江西省 registered farm 36-017",
                "vehiclePlate": "粤B·12345",
                "destination": "供港活猪 Sheung Shui slaughterhouse",
            },
        },
    }


def annotations(width, height, boxes, seq, name):
    """An annotation set for the frame: ground-truth boxes plus zones, a counting line and a HUD."""
    u = height / 720.0
    items = []
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        conf = round(0.97 - 0.03 * (i % 5), 2)
        items.append({"kind": "box", "rect": {"x": round(x0, 1), "y": round(y0, 1), "width": round(x1 - x0, 1), "height": round(y1 - y0, 1)},
                      "label": f"pig #{seq * 10 + i + 1}", "class": "pig", "confidence": conf, "trackId": seq * 10 + i + 1})
    items.append({"kind": "polygon", "label": "Loading ramp", "points": [[0.05 * width, 0.62 * height], [0.34 * width, 0.55 * height], [0.42 * width, 0.95 * height], [0.08 * width, 0.97 * height]]})
    items.append({"kind": "polyline", "label": "Count line", "points": [[0.5 * width, 0.08 * height], [0.52 * width, 0.92 * height]]})
    items.append({"kind": "arrow", "from": [0.6 * width, 0.5 * height], "to": [0.75 * width, 0.5 * height], "label": "to truck"})
    items.append({"kind": "hud", "position": "top", "entries": [
        {"key": "Consignment", "value": "HK-2026-11-20-0042"}, {"key": "Plate", "value": "粤B·12345"},
        {"key": "Count", "value": f"{len(boxes)} / 100"}, {"key": "Temp", "value": "21.4 °C"}, {"key": "Seal", "value": "open" if "night" in name else "locked"}]})
    if "night" in name:
        items.append({"kind": "alert", "severity": "critical", "code": "seal.open", "message": "E-lock seal EL-88213 reported OPEN"})
    return {"version": 1, "frame": {"width": width, "height": height}, "items": [{k: (round(v, 1) if isinstance(v, float) else v) for k, v in it.items()} for it in items]}


def round_points(obj):
    if isinstance(obj, dict):
        return {k: round_points(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [round_points(v) for v in obj]
    if isinstance(obj, float):
        return round(obj, 1)
    return obj


def write_json(path, obj, rounded=True):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(round_points(obj) if rounded else obj, f, ensure_ascii=False, indent=2)
        f.write("\n")


# --- A minimal PNG writer, for variants Pillow cannot write (16-bit RGB, Adam7) and for damage. ---

def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(width, height, bit_depth, color_type, rows, interlace=False, palette=None, trns=None):
    """rows(x, y) -> tuple of samples; samples are packed at bit_depth."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]

    def scanline(xs, y):
        bits = []
        out = bytearray()
        for x in xs:
            for s in rows(x, y):
                if bit_depth == 16:
                    out += struct.pack(">H", s)
                elif bit_depth == 8:
                    out.append(s)
                else:
                    bits.append(s)
        if bit_depth < 8:
            per = 8 // bit_depth
            for i in range(0, len(bits), per):
                byte = 0
                for j in range(per):
                    byte <<= bit_depth
                    if i + j < len(bits):
                        byte |= bits[i + j]
                out.append(byte)
        return bytes(out)

    raw = bytearray()
    if interlace:
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        for x0, y0, dx, dy in passes:
            xs = list(range(x0, width, dx))
            if not xs:
                continue
            for y in range(y0, height, dy):
                raw += b"\x00" + scanline(xs, y)
    else:
        for y in range(height):
            raw += b"\x00" + scanline(range(width), y)
    out = b"\x89PNG\r\n\x1a\n"
    out += png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 1 if interlace else 0))
    if palette:
        out += png_chunk(b"PLTE", bytes(c for rgb in palette for c in rgb))
    if trns:
        out += png_chunk(b"tRNS", trns)
    out += png_chunk(b"IDAT", zlib.compress(bytes(raw), 9))
    out += png_chunk(b"IEND", b"")
    return out


def exif_orientation(value):
    """A minimal little-endian EXIF APP1 payload carrying only the Orientation tag."""
    ifd = struct.pack("<H", 1) + struct.pack("<HHII", 0x0112, 3, 1, value) + struct.pack("<I", 0)
    return b"Exif\x00\x00" + b"II*\x00" + struct.pack("<I", 8) + ifd


def make_frames(source, out):
    boxes = load_boxes(source)
    rng = random.Random(20261120)
    frames_dir = os.path.join(out, "frames")
    os.makedirs(frames_dir, exist_ok=True)
    made = []
    seq = 1
    for label, file in SOURCES.items():
        img = Image.open(os.path.join(source, file)).convert("RGB")
        for (w, h) in [(1280, 720), (1920, 1080)]:
            frame, _, _ = cover(img, w, h)
            name = f"{label}-{h}p"
            save_jpeg(frame, os.path.join(frames_dir, name + ".jpg"))
            made.append((name, w, h, [], seq))
            seq += 1
    for i, tile in enumerate(TILES[:4]):
        img = Image.open(os.path.join(source, tile)).convert("RGB")
        frame, scale, (dx, dy) = cover(img, 1280, 720, focus=(0.5, 0.35))
        tb = []
        for x0, y0, x1, y1 in boxes.get(tile, []):
            bx0, by0, bx1, by1 = x0 * scale - dx, y0 * scale - dy, x1 * scale - dx, y1 * scale - dy
            by0, by1 = max(by0, 0), min(by1, 720)
            if by1 - by0 > 20:
                tb.append((bx0, by0, bx1, by1))
        name = f"pen-amp{i}-720p"
        if i < 2:
            save_jpeg(frame, os.path.join(frames_dir, name + ".jpg"))
        else:
            name = f"pen-amp{i}-720p-png"
            frame.save(os.path.join(frames_dir, name + ".png"), "PNG")
        made.append((name, 1280, 720, tb, seq))
        seq += 1
    for name, w, h, tb, s in made:
        write_json(os.path.join(frames_dir, name + ".sensors.json"), sensors(name, s, rng, w, h), rounded=False)
        write_json(os.path.join(frames_dir, name + ".annotations.json"), annotations(w, h, tb, s, name))
    return made


def make_variants(source, out):
    """Codec coverage: every JPEG and PNG flavour the decoders must handle."""
    d = os.path.join(out, "variants")
    os.makedirs(d, exist_ok=True)
    img = Image.open(os.path.join(source, "pigdetect_demo_image1.jpg")).convert("RGB")
    small, _, _ = cover(img, 320, 180)
    save_jpeg(small, os.path.join(d, "jpeg-420-baseline.jpg"), subsampling=2)
    save_jpeg(small, os.path.join(d, "jpeg-422.jpg"), subsampling=1)
    save_jpeg(small, os.path.join(d, "jpeg-444.jpg"), subsampling=0, quality=92)
    save_jpeg(small, os.path.join(d, "jpeg-progressive.jpg"), progressive=True)
    save_jpeg(small.convert("L"), os.path.join(d, "jpeg-grey.jpg"))
    odd, _, _ = cover(img, 333, 187)
    save_jpeg(odd, os.path.join(d, "jpeg-odd-size-333x187.jpg"))
    # Stored sideways (portrait pixels), EXIF says rotate 90 degrees clockwise to display: 320x180 shown.
    save_jpeg(small.transpose(Image.ROTATE_90), os.path.join(d, "jpeg-exif-orientation-6.jpg"), exif=exif_orientation(6))
    tile = Image.open(os.path.join(source, "amp_grid1_tile00.png")).convert("RGB")
    t, _, _ = cover(tile, 160, 120)
    t.save(os.path.join(d, "png-rgb8.png"))
    t.convert("L").save(os.path.join(d, "png-grey8.png"))
    la = t.convert("L")
    la.putalpha(Image.linear_gradient("L").resize(t.size))
    la.save(os.path.join(d, "png-grey-alpha.png"))
    rgba = t.copy()
    rgba.putalpha(Image.linear_gradient("L").rotate(90).resize(t.size))
    rgba.save(os.path.join(d, "png-rgba8.png"))
    t.quantize(64).save(os.path.join(d, "png-palette.png"))
    px = t.load()
    w, h = t.size
    with open(os.path.join(d, "png-rgb16.png"), "wb") as f:
        f.write(png_bytes(w, h, 16, 2, lambda x, y: tuple(c * 257 for c in px[x, y])))
    with open(os.path.join(d, "png-rgb8-interlaced.png"), "wb") as f:
        f.write(png_bytes(w, h, 8, 2, lambda x, y: px[x, y], interlace=True))
    g = t.convert("L").load()
    with open(os.path.join(d, "png-grey1.png"), "wb") as f:
        f.write(png_bytes(w, h, 1, 0, lambda x, y: (1 if g[x, y] > 110 else 0,)))
    pal = [(30, 30, 30), (200, 60, 60), (60, 200, 60), (240, 240, 240)]
    with open(os.path.join(d, "png-palette2-trns.png"), "wb") as f:
        f.write(png_bytes(w, h, 2, 3, lambda x, y: (min(3, g[x, y] // 64),), palette=pal, trns=bytes([0, 255, 128, 255])))


def make_malformed(out):
    """Hostile inputs; each file name starts with the error code the decoder must throw."""
    d = os.path.join(out, "malformed")
    os.makedirs(d, exist_ok=True)
    good_jpeg = open(os.path.join(out, "variants", "jpeg-420-baseline.jpg"), "rb").read()
    good_png = open(os.path.join(out, "variants", "png-rgb8.png"), "rb").read()
    prog = open(os.path.join(out, "variants", "jpeg-progressive.jpg"), "rb").read()

    def put(name, data):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)

    put("empty--zero-bytes.bin", b"")
    put("unknownFormat--gif-magic.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")
    put("unknownFormat--text.jpg", b"this is not an image, whatever the extension says\n")
    put("truncated--jpeg-half.jpg", good_jpeg[: len(good_jpeg) // 2])
    put("truncated--jpeg-header-only.jpg", good_jpeg[:200])
    put("truncated--jpeg-soi-only.jpg", good_jpeg[:3])
    put("truncated--jpeg-progressive-cut.jpg", prog[: len(prog) * 2 // 3])
    # Corrupt entropy data: find SOS, then overwrite a run of scan bytes with a pattern that is not a
    # valid Huffman code sequence.
    sos = good_jpeg.index(b"\xff\xda")
    start = sos + 2 + struct.unpack(">H", good_jpeg[sos + 2: sos + 4])[0] + 200
    bad = bytearray(good_jpeg)
    for i in range(start, start + 400):
        bad[i] = 0xFF if i % 2 == 0 else 0x00
    bad[start + 1] = 0xD9  # stray EOI marker in the scan: premature end of the data segment
    put("corrupt--jpeg-bad-huffman.jpg", bytes(bad))
    huge = bytearray(good_jpeg)
    sof = huge.index(b"\xff\xc0")
    huge[sof + 5: sof + 9] = struct.pack(">HH", 65535, 65535)
    put("tooLarge--jpeg-65535x65535-header.jpg", bytes(huge))
    huge[sof + 5: sof + 9] = struct.pack(">HH", 20000, 20000)  # under libjpeg's own cap, over 40 MP
    put("tooLarge--jpeg-20000x20000-header.jpg", bytes(huge))
    zero = bytearray(good_jpeg)
    zero[sof + 5: sof + 9] = struct.pack(">HH", 0, 180)
    put("corrupt--jpeg-zero-height.jpg", bytes(zero))
    bad_sof = bytearray(good_jpeg)
    bad_sof[sof + 4] = 12  # 12-bit precision
    put("unsupported--jpeg-12bit-precision.jpg", bytes(bad_sof))
    crc = bytearray(good_png)
    idat = crc.index(b"IDAT")
    crc[idat + 10] ^= 0x55
    put("corrupt--png-bad-idat-crc.png", bytes(crc))
    put("truncated--png-half.png", good_png[: len(good_png) // 2])
    put("truncated--png-signature-only.png", good_png[:8])
    # PNG bomb: a tiny file whose header claims 100000 x 100000 pixels (40 GB of RGBA).
    bomb = bytearray(png_bytes(1, 1, 8, 2, lambda x, y: (0, 0, 0)))
    ihdr = b"IHDR" + struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
    bomb[12:12 + 17] = ihdr
    bomb[29:33] = struct.pack(">I", zlib.crc32(ihdr) & 0xFFFFFFFF)
    put("tooLarge--png-bomb-100000x100000.png", bytes(bomb))
    badihdr = bytearray(png_bytes(4, 4, 8, 2, lambda x, y: (1, 2, 3)))
    ih = b"IHDR" + struct.pack(">IIBBBBB", 4, 4, 7, 2, 0, 0, 0)  # bit depth 7 is invalid
    badihdr[12:29] = ih
    badihdr[29:33] = struct.pack(">I", zlib.crc32(ih) & 0xFFFFFFFF)
    put("corrupt--png-invalid-bit-depth.png", bytes(badihdr))
    short = png_bytes(64, 64, 8, 2, lambda x, y: (x * 4, y * 4, 0))
    # IDAT holds fewer rows than IHDR declares: zlib stream ends early.
    short_img = png_bytes(64, 32, 8, 2, lambda x, y: (x * 4, y * 4, 0))
    hdr = b"IHDR" + struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)
    short_img = bytearray(short_img)
    short_img[12:29] = hdr
    short_img[29:33] = struct.pack(">I", zlib.crc32(hdr) & 0xFFFFFFFF)
    put("truncated--png-missing-rows.png", bytes(short_img))
    del short
    put("corrupt--png-garbage-after-signature.png", good_png[:8] + bytes(random.Random(7).randrange(256) for _ in range(300)))
    put("corrupt--jpeg-garbage-after-soi.jpg", b"\xff\xd8\xff" + bytes(random.Random(8).randrange(256) for _ in range(300)))


def make_bench(source, out, count, size):
    """COUNT frames of a slow simulated pan across the photographs, camera-sized, q85 4:2:0."""
    os.makedirs(out, exist_ok=True)
    w, h = size
    imgs = [Image.open(os.path.join(source, f)).convert("RGB") for f in SOURCES.values()]
    for i in range(count):
        img = imgs[(i // 30) % len(imgs)]
        t = (i % 30) / 29.0
        scale = max(w / img.width, h / img.height) * (1.15 + 0.1 * t)
        sw, sh = round(img.width * scale), round(img.height * scale)
        scaled = img.resize((sw, sh), Image.BILINEAR)
        dx, dy = round((sw - w) * t), round((sh - h) * (1 - t))
        save_jpeg(scaled.crop((dx, dy, dx + w, dy + h)), os.path.join(out, f"frame-{i:04d}.jpg"))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(here)
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", default=os.path.join(repo, "..", "shared", "frames"))
    p.add_argument("--out", default=os.path.join(repo, "SampleFrames"))
    p.add_argument("--bench", help="write benchmark frames to this directory instead")
    p.add_argument("--count", type=int, default=120)
    p.add_argument("--size", default="1280x720")
    a = p.parse_args()
    if a.bench:
        make_bench(a.source, a.bench, a.count, tuple(int(v) for v in a.size.split("x")))
        return
    make_frames(a.source, a.out)
    make_variants(a.source, a.out)
    make_malformed(a.out)


if __name__ == "__main__":
    main()
