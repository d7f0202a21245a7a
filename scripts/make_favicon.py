"""Draw the site's icon, a white « 4 » on the accent blue, as static/favicon.svg and static/favicon.ico.

Run from the project root after changing the drawing: `.venv/bin/python scripts/make_favicon.py`.
The ICO holds PNG images (16, 32 and 48 px) rasterised here with the standard library alone.
"""

import struct
import zlib
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "static"
SIZE = 32  # the drawing's grid
RADIUS = 6  # of the rounded square's corners
BACKGROUND = (0x1F, 0x5F, 0xA8)  # --accent in static/css/site.css
FOREGROUND = (0xFF, 0xFF, 0xFF)
# The « 4 »: its outline and the triangular hole inside it (filled by the even-odd rule).
OUTLINE = [(17, 6), (22, 6), (22, 17), (25, 17), (25, 21.5), (22, 21.5), (22, 26), (17.5, 26), (17.5, 21.5)]
OUTLINE += [(7, 21.5), (7, 17.5)]
HOLE = [(17.5, 11.5), (17.5, 17), (11.8, 17)]
ICO_SIZES = (16, 32, 48)
SAMPLES = 4  # per pixel side, for smooth edges


def svg():
    def path(points):
        return "M" + " L".join(f"{x:g} {y:g}" for x, y in points) + " Z"

    color = "#{:02x}{:02x}{:02x}".format(*BACKGROUND)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}">'
        f'<rect width="{SIZE}" height="{SIZE}" rx="{RADIUS}" fill="{color}"/>'
        f'<path fill="#fff" fill-rule="evenodd" d="{path(OUTLINE)} {path(HOLE)}"/>'
        "</svg>\n"
    )


def _inside_polygon(x, y, points):
    inside = False
    for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _inside_square(x, y):
    cx = min(max(x, RADIUS), SIZE - RADIUS)
    cy = min(max(y, RADIUS), SIZE - RADIUS)
    return (x - cx) ** 2 + (y - cy) ** 2 <= RADIUS**2


def pixels(size):
    """RGBA rows of the icon at `size` pixels."""
    scale = SIZE / size
    rows = []
    for py in range(size):
        row = bytearray()
        for px in range(size):
            square = glyph = 0
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    x = (px + (sx + 0.5) / SAMPLES) * scale
                    y = (py + (sy + 0.5) / SAMPLES) * scale
                    if _inside_square(x, y):
                        square += 1
                        glyph += _inside_polygon(x, y, OUTLINE) != _inside_polygon(x, y, HOLE)
            share = glyph / square if square else 0
            color = [round(b + (f - b) * share) for b, f in zip(BACKGROUND, FOREGROUND, strict=True)]
            row += bytes([*color, round(255 * square / SAMPLES**2)])
        rows.append(bytes(row))
    return rows


def png(size):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\0" + row for row in pixels(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def ico():
    images = [png(size) for size in ICO_SIZES]
    out = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    for size, image in zip(ICO_SIZES, images, strict=True):
        out += struct.pack("<BBBBHHII", size, size, 0, 0, 1, 32, len(image), offset)
        offset += len(image)
    return out + b"".join(images)


if __name__ == "__main__":
    (STATIC / "favicon.svg").write_text(svg())
    (STATIC / "favicon.ico").write_bytes(ico())
