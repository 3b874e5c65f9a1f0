#!/usr/bin/env python3
"""Checks a gradscope screenshot (standard library only): a real PNG of the expected size that
shows a UI (many colours) and heatmaps of the expected colour map.

usage: png_check.py FILE.png WIDTH HEIGHT [sequential|diverging|none]
"""
import struct
import sys
import zlib

# The colour maps of shaders/heatmap.frag (0-255).
SEQUENTIAL = [(68, 1, 84), (71, 45, 123), (59, 82, 139), (44, 114, 142), (33, 145, 140),
              (40, 174, 128), (94, 201, 98), (173, 220, 48), (253, 231, 37)]
DIVERGING = [(33, 102, 172), (67, 147, 195), (146, 197, 222), (209, 229, 240), (247, 247, 247),
             (253, 219, 199), (244, 165, 130), (214, 96, 77), (178, 24, 43)]


def near_curve(px, stops, tol=6.0):
    """Whether px lies on the piecewise-linear colour map (within tol per channel, RMS)."""
    for a, b in zip(stops, stops[1:]):
        d = [b[i] - a[i] for i in range(3)]
        dd = sum(x * x for x in d)
        t = max(0.0, min(1.0, sum((px[i] - a[i]) * d[i] for i in range(3)) / dd))
        err = sum((px[i] - (a[i] + t * d[i])) ** 2 for i in range(3)) / 3
        if err <= tol * tol:
            return True
    return False


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"{path}: not a PNG")
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            if depth != 8 or ctype not in (2, 6):
                raise SystemExit(f"{path}: unexpected PNG format (depth {depth}, colour type {ctype})")
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, bpp, rows


def main():
    path, want_w, want_h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    cmap = sys.argv[4] if len(sys.argv) > 4 else "none"
    w, h, bpp, rows = read_png(path)
    if (w, h) != (want_w, want_h):
        raise SystemExit(f"{path}: {w}x{h}, expected {want_w}x{want_h}")
    colours = set()
    stops = SEQUENTIAL if cmap == "sequential" else DIVERGING if cmap == "diverging" else []
    for y in range(0, h, 2):
        line = rows[y]
        for x in range(0, w, 2):
            colours.add(tuple(line[x * bpp:x * bpp + 3]))
    if len(colours) < 50:
        raise SystemExit(f"{path}: only {len(colours)} colours: the window looks empty")
    # A heatmap puts many distinct colours on its colour map's curve; the UI's own colours are few.
    # (Greys are left out: text antialiasing lies on the diverging map's white middle.)
    on_curve = sum(1 for c in colours if stops and max(c) - min(c) > 30 and near_curve(c, stops))
    if stops and on_curve < 40:
        raise SystemExit(f"{path}: only {on_curve} distinct colours on the {cmap} map: no heatmaps drawn?")
    near = on_curve
    print(f"{path}: {w}x{h}, {len(colours)} colours, {near} distinct colours on the {cmap} map")


main()
