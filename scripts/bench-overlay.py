#!/usr/bin/env python3
"""Prints the benchmark overlay as annotation JSON: 10 labelled boxes, 3 translucent zones, one HUD
strip, one alert banner, laid out for --width x --height (default 1280x720). Deterministic.
The same layout as `herdlens bench compose` builds in Swift (BenchmarkOverlay)."""
import argparse
import json

p = argparse.ArgumentParser()
p.add_argument("--width", type=int, default=1280)
p.add_argument("--height", type=int, default=720)
a = p.parse_args()
sx, sy = a.width / 1280, a.height / 720
items = []
for i in range(10):
    x, y = 60 + i * 113, 90 + (i % 3) * 170
    items.append({"kind": "box", "rect": {"x": x * sx, "y": y * sy, "width": 150 * sx, "height": 170 * sy},
                  "label": f"pig #{i + 1}", "class": "pig", "confidence": 0.9, "trackId": i + 1})
zones = [("Loading ramp", [[64, 446], [435, 396], [538, 684], [102, 698]]),
         ("Pen gate", [[800, 60], [1000, 60], [1010, 200], [790, 210]]),
         ("Truck door", [[1050, 300], [1250, 280], [1260, 520], [1060, 540]])]
for label, pts in zones:
    items.append({"kind": "polygon", "label": label, "points": [[x * sx, y * sy] for x, y in pts]})
items.append({"kind": "hud", "position": "top", "entries": [
    {"key": "Consignment", "value": "HK-2026-11-20-0042"}, {"key": "Plate", "value": "粤B·12345"},
    {"key": "Count", "value": "57 / 100"}, {"key": "Temp", "value": "21.4 °C"}, {"key": "Seal", "value": "locked"}]})
items.append({"kind": "alert", "severity": "warning", "code": "count.mismatch", "message": "Counted 57 of 100 declared head"})
print(json.dumps({"version": 1, "frame": {"width": a.width, "height": a.height}, "items": items}, ensure_ascii=False))
