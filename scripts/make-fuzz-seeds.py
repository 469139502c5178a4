#!/usr/bin/env python3
"""Writes Fuzz/seeds/: tiny JPEGs and PNGs in every flavour the codecs handle, so the fuzzers start
from inputs that run in well under a millisecond (the 320x180 SampleFrames variants are seeds too,
but slow ones). Needs Pillow; cjpeg (libjpeg-turbo-progs) for restart markers, 4:1:1, RGB and arithmetic
coding. Interlaced and 16-bit RGB PNGs come from SampleFrames/variants.

    python3 scripts/make-fuzz-seeds.py
"""
import io
import os
import subprocess
import tempfile

from PIL import Image

root = os.path.join(os.path.dirname(__file__), "..")
src = Image.open(os.path.join(root, "SampleFrames", "variants", "jpeg-420-baseline.jpg")).convert("RGB")


def small(w, h):
    return src.resize((w, h), Image.BILINEAR)


def jpeg(img, **kw):
    b = io.BytesIO()
    img.save(b, "JPEG", **kw)
    return b.getvalue()


def png(img, **kw):
    b = io.BytesIO()
    img.save(b, "PNG", **kw)
    return b.getvalue()


def cjpeg(img, *args):
    with tempfile.TemporaryDirectory() as tmp:
        ppm = os.path.join(tmp, "in.ppm")
        img.save(ppm)
        return subprocess.run(["cjpeg", *args, ppm], check=True, capture_output=True).stdout


def main():
    jd = os.path.join(root, "Fuzz", "seeds", "jpeg")
    pd = os.path.join(root, "Fuzz", "seeds", "png")
    os.makedirs(jd, exist_ok=True)
    os.makedirs(pd, exist_ok=True)
    a = small(24, 16)
    j = {
        "420.jpg": jpeg(a, quality=85, subsampling=2),
        "422.jpg": jpeg(a, quality=85, subsampling=1),
        "444.jpg": jpeg(a, quality=95, subsampling=0),
        "progressive.jpg": jpeg(a, quality=80, progressive=True),
        "grey.jpg": jpeg(a.convert("L"), quality=80),
        "odd-13x9.jpg": jpeg(small(13, 9), quality=75),
        "optimized.jpg": jpeg(a, quality=60, optimize=True),
        "cmyk.jpg": jpeg(a.convert("CMYK"), quality=80),
        "restart.jpg": cjpeg(a, "-quality", "80", "-restart", "1B"),
        "411.jpg": cjpeg(small(32, 16), "-quality", "80", "-sample", "4x1,1x1,1x1"),
        "rgb-no-transform.jpg": cjpeg(a, "-quality", "80", "-rgb"),
        "arithmetic.jpg": cjpeg(a, "-quality", "80", "-arithmetic"),
    }
    exif = Image.Exif()
    exif[0x0112] = 6
    j["exif-orientation-6.jpg"] = jpeg(a, quality=80, exif=exif.tobytes())
    for name, data in j.items():
        open(os.path.join(jd, name), "wb").write(data)
    b = small(12, 8)
    p = {
        "rgb.png": png(b),
        "rgba.png": png(b.convert("RGBA")),
        "grey.png": png(b.convert("L")),
        "grey-alpha.png": png(b.convert("LA")),
        "palette.png": png(b.convert("P", palette=Image.ADAPTIVE, colors=16)),
        "one-bit.png": png(b.convert("1")),
        "grey16.png": png(b.convert("L").convert("I;16")),
    }
    for name, data in p.items():
        open(os.path.join(pd, name), "wb").write(data)
    print(f"{len(j)} JPEG and {len(p)} PNG seeds, {sum(map(len, j.values())) + sum(map(len, p.values()))} bytes")


if __name__ == "__main__":
    main()
