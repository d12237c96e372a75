"""Generate the demo photos in assets/photos/ and their manifest.json.

Each photo is a synthetic but photo-like picture of something a technician photographs at a
machine: a control-panel display showing a fault code (seven-segment LEDs, a backlit
character LCD or a dot-matrix screen), a nameplate, an asset tag with a QR code or a Code128
barcode, or a plain scene with no code at all. The object is drawn flat, placed on a
background, then degraded the way phone photos are: perspective, rotation, uneven lighting,
glare, sensor noise, mild blur and JPEG compression, while staying legible.

The fault codes, models, serial numbers and asset tags come from the sample library
(assets/library/catalog.yaml and the manuals built by make_sample_library.py).

Run:  .venv/bin/python build/make_demo_photos.py
Deterministic: each photo has its own fixed seed.
"""

from __future__ import annotations

import json
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import zxingcpp
from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "assets" / "photos"
MAX_BYTES = 600 * 1024

_FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation")]


def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    for folder in _FONT_DIRS:
        path = folder / name
        if path.exists():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


SANS_B = "DejaVuSans-Bold.ttf"
SANS = "DejaVuSans.ttf"
COND = "DejaVuSansCondensed.ttf"
COND_B = "DejaVuSansCondensed-Bold.ttf"
MONO_B = "DejaVuSansMono-Bold.ttf"
MONO = "DejaVuSansMono.ttf"


def rng_for(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


# ---------------------------------------------------------------------------------------------
# objects drawn flat (RGBA: alpha marks the object's outline)


def rounded_panel(size: tuple[int, int], fill: tuple[int, int, int], radius: int = 40) -> Image.Image:
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle([0, 0, size[0] - 1, size[1] - 1], radius=radius, fill=fill + (255,),
                        outline=(60, 60, 60, 255), width=4)
    return img


def add_texture(img: Image.Image, rng: np.random.Generator, amount: float = 6.0, brushed: bool = False) -> Image.Image:
    arr = np.asarray(img).astype(np.float32)
    h, w = arr.shape[:2]
    noise = rng.normal(0, amount, (h, w, 1)).astype(np.float32)
    if brushed:
        streak = rng.normal(0, amount * 1.6, (h, 1, 1)).astype(np.float32)
        streak = cv2.GaussianBlur(streak, (1, 5), 0).reshape(h, 1, 1)
        noise = noise * 0.5 + streak
    arr[..., :3] = np.clip(arr[..., :3] + noise, 0, 255)
    return Image.fromarray(arr.astype(np.uint8), "RGBA")


SEGMENTS = {
    "0": "abcdef", "1": "bc", "2": "abged", "3": "abgcd", "4": "fgbc", "5": "afgcd", "6": "afgedc",
    "7": "abc", "8": "abcdefg", "9": "abcdfg", "A": "abcefg", "B": "cdefg", "C": "adef", "D": "bcdeg",
    "E": "adefg", "F": "aefg", "H": "bcefg", "L": "def", "P": "abefg", "R": "eg", "U": "bcdef",
    "-": "g", " ": "", "O": "cdeg", "N": "ceg", "T": "defg",
}


def draw_seven_segment(d: ImageDraw.ImageDraw, x: int, y: int, ch: str, w: int, h: int,
                       on: tuple[int, int, int], off: tuple[int, int, int]) -> None:
    t = max(6, w // 6)  # segment thickness
    slant = w * 0.12
    half = h / 2

    def sk(px: float, py: float) -> tuple[float, float]:  # italic slant like real LED digits
        return (x + px + slant * (1 - py / h), y + py)

    def hseg(py: float) -> list[tuple[float, float]]:
        return [sk(t * 0.6, py), sk(t, py - t / 2), sk(w - t, py - t / 2), sk(w - t * 0.6, py),
                sk(w - t, py + t / 2), sk(t, py + t / 2)]

    def vseg(px: float, y0: float, y1: float) -> list[tuple[float, float]]:
        return [sk(px, y0 + t * 0.6), sk(px + t / 2, y0 + t), sk(px + t / 2, y1 - t), sk(px, y1 - t * 0.6),
                sk(px - t / 2, y1 - t), sk(px - t / 2, y0 + t)]

    shapes = {
        "a": hseg(t / 2), "g": hseg(half), "d": hseg(h - t / 2),
        "f": vseg(t / 2, 0, half), "b": vseg(w - t / 2, 0, half),
        "e": vseg(t / 2, half, h), "c": vseg(w - t / 2, half, h),
    }
    lit = SEGMENTS.get(ch.upper(), "")
    for name, poly in shapes.items():
        d.polygon(poly, fill=on if name in lit else off)


def obj_seven_segment_panel(rng: np.random.Generator, text: str, *, lit: bool = True,
                            brand: str = "PC-200", maker: str = "HALDEN & CREWE") -> Image.Image:
    W, H = 1300, 900
    img = rounded_panel((W, H), (214, 216, 212))
    d = ImageDraw.Draw(img)
    d.text((70, 50), maker, font=font(SANS_B, 44), fill=(20, 60, 120))
    d.text((W - 330, 52), brand, font=font(SANS_B, 48), fill=(40, 40, 40))
    d.text((70, 104), "PUMP CONTROLLER", font=font(COND, 30), fill=(70, 70, 70))
    # display window
    d.rounded_rectangle([150, 180, 850, 500], radius=14, fill=(45, 8, 8), outline=(20, 20, 20), width=8)
    on = (255, 64, 40) if lit else (70, 18, 16)
    off = (52, 11, 10)
    for i, ch in enumerate(text.rjust(3)[:3]):
        draw_seven_segment(d, 205 + i * 210, 215, ch, 160, 250, on, off)
    glow = Image.new("RGBA", img.size, (0, 0, 0, 0))
    if lit:
        gd = ImageDraw.Draw(glow)
        for i, ch in enumerate(text.rjust(3)[:3]):
            draw_seven_segment(gd, 205 + i * 210, 215, ch, 160, 250, (255, 90, 60, 150), (0, 0, 0, 0))
        glow = glow.filter(ImageFilter.GaussianBlur(14))
        img = Image.alpha_composite(img, glow)
        d = ImageDraw.Draw(img)
        for i, ch in enumerate(text.rjust(3)[:3]):
            draw_seven_segment(d, 205 + i * 210, 215, ch, 160, 250, on, (0, 0, 0, 0) if False else off)
    d.text((160, 515), "bar", font=font(SANS, 26), fill=(60, 60, 60))
    # status LEDs
    leds = [("RUN", (40, 60, 40)), ("ALARM", (255, 40, 30) if lit else (70, 30, 30)), ("AUTO", (255, 190, 0) if lit else (80, 70, 30))]
    for i, (name, col) in enumerate(leds):
        cy = 230 + i * 85
        d.ellipse([930, cy - 22, 974, cy + 22], fill=col, outline=(30, 30, 30), width=3)
        d.text((995, cy - 18), name, font=font(SANS_B, 32), fill=(40, 40, 40))
    # keypad
    keys = ["START", "STOP/RESET", "MODE", "\u25b2", "\u25bc", "ENTER"]
    for i, name in enumerate(keys):
        kx = 150 + (i % 3) * 340
        ky = 590 + (i // 3) * 140
        d.rounded_rectangle([kx, ky, kx + 300, ky + 110], radius=18, fill=(238, 238, 234), outline=(90, 90, 90), width=4)
        f = font(SANS_B, 30)
        tw = d.textlength(name, font=f)
        d.text((kx + 150 - tw / 2, ky + 38), name, font=f, fill=(30, 30, 30))
    return add_texture(img, rng, 4)


def obj_lcd_panel(rng: np.random.Generator, lines: list[str], *, lit: bool = True) -> Image.Image:
    W, H = 1200, 1000
    img = rounded_panel((W, H), (52, 55, 60), radius=30)
    d = ImageDraw.Draw(img)
    d.text((70, 45), "KESTREL", font=font(SANS_B, 46), fill=(235, 150, 20))
    d.text((330, 52), "VX-500", font=font(SANS_B, 40), fill=(225, 225, 225))
    d.text((W - 300, 58), "READY  FAULT", font=font(COND_B, 26), fill=(200, 200, 200))
    d.ellipse([W - 285, 95, W - 255, 125], fill=(40, 70, 40))
    d.ellipse([W - 180, 95, W - 150, 125], fill=(255, 50, 40) if lit else (70, 30, 30))
    # LCD glass
    x0, y0, x1, y1 = 90, 150, W - 90, 520
    d.rectangle([x0 - 14, y0 - 14, x1 + 14, y1 + 14], fill=(25, 25, 25))
    bg = np.zeros((y1 - y0, x1 - x0, 4), np.uint8)
    yy = np.linspace(0, 1, y1 - y0)[:, None]
    xx = np.linspace(0, 1, x1 - x0)[None, :]
    base = np.array([150, 205, 60]) if lit else np.array([70, 82, 60])
    shade = (0.85 + 0.15 * np.cos((xx - 0.5) * 2.2) - 0.08 * yy)[..., None]
    bg[..., :3] = np.clip(base * shade, 0, 255).astype(np.uint8)
    bg[..., 3] = 255
    glass = Image.fromarray(bg, "RGBA")
    gd = ImageDraw.Draw(glass)
    f = font(MONO_B, 78)
    if lit:
        for i, line in enumerate(lines[:3]):
            gd.text((40, 28 + i * 108), line, font=f, fill=(22, 38, 18))
    img.paste(glass, (x0, y0))
    d = ImageDraw.Draw(img)
    keys = [("LOC/REM", 170), ("\u25b2", 420), ("ESC", 670), ("\u25c0", 170), ("OK", 420), ("\u25b6", 670),
            ("RUN", 170), ("\u25bc", 420), ("STOP\nRESET", 670)]
    for i, (name, kx) in enumerate(keys):
        ky = 600 + (i // 3) * 125
        col = (40, 150, 60) if name == "RUN" else (200, 40, 40) if name.startswith("STOP") else (90, 94, 100)
        d.rounded_rectangle([kx + 90, ky, kx + 290, ky + 100], radius=20, fill=col, outline=(20, 20, 20), width=3)
        f2 = font(SANS_B, 26)
        for j, part in enumerate(name.split("\n")):
            tw = d.textlength(part, font=f2)
            d.text((kx + 190 - tw / 2, ky + 34 - 14 * (name.count("\n")) + j * 30), part, font=f2, fill=(240, 240, 240))
    return add_texture(img, rng, 3)


def obj_fc40_controller(rng: np.random.Generator, text: str) -> Image.Image:
    """A compact panel-mount refrigeration controller with a four-digit LED display."""
    W, H = 1500, 760
    img = rounded_panel((W, H), (30, 32, 36), radius=30)
    d = ImageDraw.Draw(img)
    d.rounded_rectangle([40, 40, W - 40, H - 40], radius=20, fill=(44, 47, 52), outline=(15, 15, 15), width=4)
    d.text((90, 70), "FROSTLINE", font=font(SANS_B, 40), fill=(120, 210, 230))
    d.text((W - 260, 74), "FC-40", font=font(SANS_B, 40), fill=(220, 220, 220))
    d.rectangle([110, 150, 1040, 470], fill=(12, 10, 10), outline=(0, 0, 0), width=6)
    on, off = (255, 45, 35), (40, 14, 12)
    glow = Image.new("RGBA", img.size, (0, 0, 0, 0))
    gd = ImageDraw.Draw(glow)
    for i, ch in enumerate(text.rjust(4)[:4]):
        draw_seven_segment(gd, 160 + i * 215, 185, ch, 160, 250, (255, 80, 60, 170), (0, 0, 0, 0))
    img = Image.alpha_composite(img, glow.filter(ImageFilter.GaussianBlur(12)))
    d = ImageDraw.Draw(img)
    for i, ch in enumerate(text.rjust(4)[:4]):
        draw_seven_segment(d, 160 + i * 215, 185, ch, 160, 250, on, off)
    for i, (name, col) in enumerate([("COMP", (60, 60, 60)), ("FAN", (60, 200, 80)), ("DEF", (60, 60, 60)),
                                     ("ALARM", (255, 60, 40))]):
        cy = 180 + i * 75
        d.ellipse([1090, cy, 1124, cy + 34], fill=col, outline=(0, 0, 0), width=2)
        d.text((1140, cy - 2), name, font=font(SANS_B, 32), fill=(220, 220, 220))
    for i, name in enumerate(["SET", "\u25b2", "\u25bc", "DEF"]):
        kx = 110 + i * 260
        d.rounded_rectangle([kx, 540, kx + 200, 660], radius=18, fill=(70, 74, 80), outline=(10, 10, 10), width=3)
        f = font(SANS_B, 40)
        tw = d.textlength(name, font=f)
        d.text((kx + 100 - tw / 2, 575), name, font=f, fill=(240, 240, 240))
    return add_texture(img, rng, 3)


def obj_cabinet_door(rng: np.random.Generator, panel: Image.Image, tag: Image.Image) -> Image.Image:
    """A painted cabinet door with a drive keypad fitted and an asset tag stuck beside it."""
    W, H = 2300, 1300
    img = Image.new("RGBA", (W, H), (205, 207, 200, 255))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, W - 1, H - 1], outline=(120, 120, 115, 255), width=10)
    d.rectangle([40, 40, W - 40, H - 40], outline=(170, 172, 165, 255), width=4)
    img = add_texture(img, rng, 5)
    p = panel.resize((int(panel.width * 1.0), int(panel.height * 1.0)), Image.LANCZOS)
    img.alpha_composite(p, (120, (H - p.height) // 2))
    t = tag.resize((int(tag.width * 0.68), int(tag.height * 0.68)), Image.LANCZOS)
    img.alpha_composite(t, (W - t.width - 110, 160))
    d = ImageDraw.Draw(img)
    d.rectangle([W - 860, 820, W - 110, 1010], fill=(255, 214, 0, 255), outline=(0, 0, 0, 255), width=5)
    d.polygon([(W - 830, 990), (W - 770, 850), (W - 710, 990)], fill=(0, 0, 0, 255))
    d.text((W - 680, 850), "DANGER 400 V", font=font(SANS_B, 52), fill=(0, 0, 0))
    d.text((W - 680, 925), "Wait 5 min after isolation", font=font(COND_B, 34), fill=(0, 0, 0))
    return img


# A compact 5x7 dot font for the dot-matrix display (columns encoded as bit rows, top first).
DOT_FONT = {
    "A": ["01110", "10001", "10001", "11111", "10001", "10001", "10001"],
    "B": ["11110", "10001", "10001", "11110", "10001", "10001", "11110"],
    "C": ["01110", "10001", "10000", "10000", "10000", "10001", "01110"],
    "D": ["11110", "10001", "10001", "10001", "10001", "10001", "11110"],
    "E": ["11111", "10000", "10000", "11110", "10000", "10000", "11111"],
    "F": ["11111", "10000", "10000", "11110", "10000", "10000", "10000"],
    "G": ["01110", "10001", "10000", "10111", "10001", "10001", "01111"],
    "H": ["10001", "10001", "10001", "11111", "10001", "10001", "10001"],
    "I": ["01110", "00100", "00100", "00100", "00100", "00100", "01110"],
    "K": ["10001", "10010", "10100", "11000", "10100", "10010", "10001"],
    "L": ["10000", "10000", "10000", "10000", "10000", "10000", "11111"],
    "M": ["10001", "11011", "10101", "10101", "10001", "10001", "10001"],
    "N": ["10001", "11001", "10101", "10011", "10001", "10001", "10001"],
    "O": ["01110", "10001", "10001", "10001", "10001", "10001", "01110"],
    "P": ["11110", "10001", "10001", "11110", "10000", "10000", "10000"],
    "R": ["11110", "10001", "10001", "11110", "10100", "10010", "10001"],
    "S": ["01111", "10000", "10000", "01110", "00001", "00001", "11110"],
    "T": ["11111", "00100", "00100", "00100", "00100", "00100", "00100"],
    "U": ["10001", "10001", "10001", "10001", "10001", "10001", "01110"],
    "V": ["10001", "10001", "10001", "10001", "10001", "01010", "00100"],
    "W": ["10001", "10001", "10001", "10101", "10101", "10101", "01010"],
    "Y": ["10001", "10001", "01010", "00100", "00100", "00100", "00100"],
    "0": ["01110", "10001", "10011", "10101", "11001", "10001", "01110"],
    "1": ["00100", "01100", "00100", "00100", "00100", "00100", "01110"],
    "2": ["01110", "10001", "00001", "00010", "00100", "01000", "11111"],
    "3": ["11111", "00010", "00100", "00010", "00001", "10001", "01110"],
    "4": ["00010", "00110", "01010", "10010", "11111", "00010", "00010"],
    "5": ["11111", "10000", "11110", "00001", "00001", "10001", "01110"],
    "6": ["00110", "01000", "10000", "11110", "10001", "10001", "01110"],
    "7": ["11111", "00001", "00010", "00100", "01000", "01000", "01000"],
    "8": ["01110", "10001", "10001", "01110", "10001", "10001", "01110"],
    "9": ["01110", "10001", "10001", "01111", "00001", "00010", "01100"],
    "-": ["00000", "00000", "00000", "11111", "00000", "00000", "00000"],
    ".": ["00000", "00000", "00000", "00000", "00000", "01100", "01100"],
    ":": ["00000", "01100", "01100", "00000", "01100", "01100", "00000"],
    "/": ["00000", "00001", "00010", "00100", "01000", "10000", "00000"],
    " ": ["00000"] * 7,
}


def obj_dot_matrix_panel(rng: np.random.Generator, lines: list[str]) -> Image.Image:
    W, H = 1500, 900
    img = rounded_panel((W, H), (28, 60, 110), radius=24)
    d = ImageDraw.Draw(img)
    d.text((60, 40), "BRANNOCK", font=font(SANS_B, 50), fill=(250, 250, 250))
    d.text((380, 52), "AirLogic 3", font=font(SANS, 40), fill=(200, 220, 255))
    cols, rows = 20, 2
    pitch = 11  # dot pitch in px
    cw, ch = 6 * pitch, 9 * pitch
    x0, y0 = 90, 150
    dw, dh = cols * cw + 40, rows * ch + 40
    d.rectangle([x0 - 16, y0 - 16, x0 + dw + 16, y0 + dh + 16], fill=(10, 10, 12))
    d.rectangle([x0, y0, x0 + dw, y0 + dh], fill=(14, 20, 16))
    on, off = (120, 255, 200), (22, 38, 32)
    for r in range(rows):
        text = (lines[r] if r < len(lines) else "").upper().ljust(cols)[:cols]
        for c, chr_ in enumerate(text):
            glyph = DOT_FONT.get(chr_, DOT_FONT[" "])
            for gy in range(7):
                for gx in range(5):
                    px = x0 + 20 + c * cw + gx * pitch
                    py = y0 + 20 + r * ch + gy * pitch
                    lit = glyph[gy][gx] == "1"
                    d.ellipse([px, py, px + pitch - 2, py + pitch - 2], fill=on if lit else off)
    glow = img.filter(ImageFilter.GaussianBlur(3))
    img = Image.blend(img, glow, 0.35)
    d = ImageDraw.Draw(img)
    # keys and status lamps
    for i, (name, col) in enumerate([("I", (40, 160, 60)), ("O", (210, 40, 40)), ("RESET", (230, 230, 230)),
                                     ("MENU", (230, 230, 230)), ("\u25b2", (230, 230, 230)), ("\u25bc", (230, 230, 230))]):
        kx, ky = 110 + i * 220, 560
        d.rounded_rectangle([kx, ky, kx + 170, ky + 120], radius=16, fill=col, outline=(15, 15, 15), width=3)
        f = font(SANS_B, 40 if len(name) == 1 else 28)
        tw = d.textlength(name, font=f)
        d.text((kx + 85 - tw / 2, ky + 38), name, font=f, fill=(20, 20, 20) if col[0] > 200 else (250, 250, 250))
    for i, (name, col) in enumerate([("POWER", (60, 220, 80)), ("LOAD", (60, 70, 60)), ("ALARM", (255, 50, 40))]):
        cx = 1420
        cy = 190 + i * 90
        d.ellipse([cx - 22, cy - 22, cx + 22, cy + 22], fill=col, outline=(0, 0, 0), width=3)
        d.text((cx - 180, cy - 18), name, font=font(SANS_B, 30), fill=(230, 230, 230))
    return add_texture(img, rng, 3)


def obj_nameplate(rng: np.random.Generator, maker: str, title: str, rows: list[tuple[str, str]],
                  footer: str, *, colour: tuple[int, int, int] = (20, 60, 120)) -> Image.Image:
    W, H = 1500, 140 + 86 * len(rows) + 150
    img = rounded_panel((W, H), (196, 198, 196), radius=22)
    img = add_texture(img, rng, 7, brushed=True)
    d = ImageDraw.Draw(img)
    d.rectangle([30, 30, W - 30, 130], fill=colour)
    d.text((70, 48), maker, font=font(SANS_B, 56), fill=(245, 245, 245))
    tw = d.textlength(title, font=font(SANS_B, 34))
    d.text((W - 70 - tw, 68), title, font=font(SANS_B, 34), fill=(235, 235, 235))
    y = 160
    for label, value in rows:
        d.text((70, y), label, font=font(COND, 40), fill=(50, 50, 50))
        d.text((520, y - 4), value, font=font(MONO_B, 50), fill=(15, 15, 15))
        d.line([70, y + 66, W - 70, y + 66], fill=(140, 140, 140), width=2)
        y += 86
    d.text((70, y + 30), footer, font=font(COND, 32), fill=(40, 40, 40))
    for cx, cy in ((16 + 14, 16 + 14), (W - 30, 30), (30, H - 30), (W - 30, H - 30)):
        d.ellipse([cx - 14, cy - 14, cx + 14, cy + 14], fill=(150, 150, 150), outline=(90, 90, 90), width=3)
    return img


def barcode_image(content: str, fmt: zxingcpp.BarcodeFormat, scale: int) -> Image.Image:
    code = zxingcpp.create_barcode(content, fmt)
    arr = np.asarray(code.to_image(scale=scale))
    return Image.fromarray(arr).convert("RGBA")


def obj_asset_tag(rng: np.random.Generator, tag: str, owner: str, *, code128: bool = False) -> Image.Image:
    if code128:
        W, H = 1400, 620
    else:
        W, H = 1300, 620
    img = rounded_panel((W, H), (236, 238, 236), radius=26)
    img = add_texture(img, rng, 6, brushed=True)
    d = ImageDraw.Draw(img)
    d.rectangle([20, 20, W - 20, 110], fill=(25, 25, 25))
    d.text((50, 36), owner, font=font(SANS_B, 46), fill=(240, 240, 240))
    if code128:
        bc = barcode_image(tag, zxingcpp.BarcodeFormat.Code128, 5)
        bc = bc.resize((min(W - 160, bc.width * 2 if bc.width < 500 else bc.width), 240), Image.NEAREST)
        img.paste(bc, ((W - bc.width) // 2, 160))
        f = font(MONO_B, 64)
        tw = d.textlength(tag, font=f)
        d.text(((W - tw) / 2, 420), tag, font=f, fill=(15, 15, 15))
        d.text((60, 530), "Asset no. - do not remove", font=font(COND, 34), fill=(60, 60, 60))
    else:
        qr = barcode_image(tag, zxingcpp.BarcodeFormat.QRCode, 12)
        size = 420
        qr = qr.resize((size, size), Image.NEAREST)
        d.rectangle([50, 150, 50 + size + 40, 150 + size + 40], fill=(255, 255, 255))
        img.paste(qr, (70, 170))
        d.text((560, 170), "ASSET NO.", font=font(SANS_B, 40), fill=(60, 60, 60))
        d.text((560, 230), tag, font=font(MONO_B, 76), fill=(15, 15, 15))
        d.text((560, 360), "Scan for service history", font=font(COND, 36), fill=(60, 60, 60))
        d.text((560, 420), "Do not remove or paint over", font=font(COND, 36), fill=(60, 60, 60))
        d.text((560, 500), "Facilities Engineering", font=font(COND_B, 34), fill=(150, 20, 20))
    return img


def obj_flange(rng: np.random.Generator) -> Image.Image:
    W, H = 1500, 1100
    img = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    # pipe running horizontally, flange in the middle
    for y in range(330, 770):
        t = (y - 330) / 440
        v = int(60 + 120 * np.sin(np.pi * t) ** 0.7)
        d.line([0, y, W, y], fill=(v, int(v * 0.55) + 20, int(v * 0.35) + 10, 255))
    cx, cy = W // 2, H // 2
    for r, col in ((470, (120, 64, 40)), (430, (150, 84, 52)), (250, (100, 55, 36))):
        d.ellipse([cx - 95 - 5, cy - r, cx + 95, cy + r], fill=col + (255,), outline=(50, 30, 20, 255), width=4)
    d.rectangle([cx - 100, cy - 470, cx - 92, cy + 470], fill=(60, 40, 30, 255))
    for k in range(8):
        a = np.pi / 8 + k * np.pi / 4
        by = cy + 350 * np.sin(a)
        scale = abs(np.cos(a))
        d.ellipse([cx - 30 - 40 * scale, by - 38, cx - 30 + 40 * scale + 20, by + 38], fill=(170, 170, 165, 255),
                  outline=(60, 60, 60, 255), width=3)
    return add_texture(img, rng, 8)


# ---------------------------------------------------------------------------------------------
# backgrounds and camera degradation


def background(rng: np.random.Generator, size: tuple[int, int], base: tuple[int, int, int]) -> np.ndarray:
    w, h = size
    yy = np.linspace(0, 1, h)[:, None, None]
    xx = np.linspace(0, 1, w)[None, :, None]
    img = np.array(base, np.float32)[None, None, :] * (0.8 + 0.25 * xx - 0.15 * yy)
    img = img + rng.normal(0, 6, (h, w, 1))
    coarse = cv2.resize(rng.normal(0, 10, (12, 16)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    img = img + coarse[..., None]
    img = np.clip(img, 0, 255).astype(np.uint8)
    # a few fixings on the machine surface
    for _ in range(4):
        x, y = int(rng.uniform(0.05, 0.95) * w), int(rng.uniform(0.05, 0.95) * h)
        cv2.circle(img, (x, y), int(rng.uniform(12, 22)), (90, 90, 90), -1, cv2.LINE_AA)
        cv2.circle(img, (x, y), int(rng.uniform(5, 9)), (50, 50, 50), -1, cv2.LINE_AA)
    return img


def place(rng: np.random.Generator, bg: np.ndarray, obj: Image.Image, fill: float, tilt: float,
          rotate_deg: float) -> np.ndarray:
    """Warp obj (RGBA) into bg (RGB uint8) with a mild perspective and rotation."""
    h, w = bg.shape[:2]
    ow, oh = obj.size
    scale = fill * w / ow
    if oh * scale > 0.85 * h:
        scale = 0.85 * h / oh
    tw, th = ow * scale, oh * scale
    cx = w / 2 + rng.uniform(-0.06, 0.06) * w
    cy = h / 2 + rng.uniform(-0.06, 0.06) * h
    corners = np.array([[-tw / 2, -th / 2], [tw / 2, -th / 2], [tw / 2, th / 2], [-tw / 2, th / 2]])
    a = np.deg2rad(rotate_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    corners = corners @ rot.T
    jitter = rng.uniform(-tilt, tilt, (4, 2)) * np.array([tw, th])
    # keystone: one side a little shorter, as when the phone is not square to the panel
    key = rng.uniform(-tilt, tilt) * th
    jitter[1, 1] += key
    jitter[2, 1] -= key
    dst = (corners + jitter + [cx, cy]).astype(np.float32)
    src = np.array([[0, 0], [ow, 0], [ow, oh], [0, oh]], np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    rgba = np.asarray(obj).astype(np.float32)
    warped = cv2.warpPerspective(rgba, m, (w, h), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
    alpha = warped[..., 3:4] / 255.0
    # soft drop shadow
    shadow = cv2.GaussianBlur(alpha, (0, 0), 18)[..., None] if alpha.ndim == 3 else alpha
    shadow = np.roll(np.roll(shadow, 14, axis=0), 10, axis=1).reshape(h, w, 1)
    out = bg.astype(np.float32) * (1 - 0.45 * shadow)
    out = out * (1 - alpha) + warped[..., :3] * alpha
    return np.clip(out, 0, 255).astype(np.uint8)


@dataclass
class Degrade:
    light: float = 0.35  # strength of the uneven lighting
    glare: float = 0.0  # 0..1 peak of a specular highlight
    glare_at: tuple[float, float] = (0.75, 0.25)
    blur: float = 1.0  # gaussian sigma in px
    noise: float = 4.0
    quality: int = 85
    exposure: float = 1.0  # overall brightness factor (below 1: an under-exposed photo)
    glare_size: float = 1.0  # scale of the highlight


def degrade(rng: np.random.Generator, img: np.ndarray, p: Degrade) -> np.ndarray:
    h, w = img.shape[:2]
    out = img.astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    lx, ly = rng.uniform(0, w), rng.uniform(0, h)
    dist = np.sqrt((xx - lx) ** 2 + (yy - ly) ** 2) / np.hypot(w, h)
    light = (1.08 - p.light * dist) * p.exposure
    out = out * light[..., None]
    if p.glare > 0:
        gx, gy = p.glare_at[0] * w, p.glare_at[1] * h
        sx, sy = rng.uniform(0.05, 0.08) * w * p.glare_size, rng.uniform(0.03, 0.05) * h * p.glare_size
        blob = np.exp(-(((xx - gx) / sx) ** 2 + ((yy - gy) / sy) ** 2))
        out = out + 255 * p.glare * blob[..., None]
    # warm/cool cast from the ambient light
    out = out * np.array(rng.uniform(0.94, 1.04, 3), np.float32)[None, None, :]
    out = np.clip(out, 0, 255)
    if p.blur > 0:
        out = cv2.GaussianBlur(out, (0, 0), p.blur)
    out = out + rng.normal(0, p.noise, out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


def save_jpeg(img_rgb: np.ndarray, path: Path, quality: int) -> int:
    bgr = cv2.cvtColor(img_rgb, cv2.COLOR_RGB2BGR)
    q = quality
    while True:
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, q, cv2.IMWRITE_JPEG_OPTIMIZE, 1])
        if not ok:
            raise RuntimeError(f"could not encode {path.name}")
        if len(buf) <= MAX_BYTES or q <= 50:
            break
        q -= 5
    path.write_bytes(buf.tobytes())
    return len(buf)


# ---------------------------------------------------------------------------------------------
# the photo set


@dataclass
class Photo:
    file: str
    kind: str  # display | nameplate | asset_tag | scene
    make: Callable[[np.random.Generator], Image.Image]
    equipment_id: str | None = None
    codes: list[str] = field(default_factory=list)
    asset_tags: list[str] = field(default_factory=list)
    model: str | None = None
    serial: str | None = None
    description: str = ""
    expected_flags: list[str] = field(default_factory=list)  # quality flags the photo is made to raise
    size: tuple[int, int] = (2000, 1500)
    bg: tuple[int, int, int] = (92, 104, 112)
    fill: float = 0.72
    tilt: float = 0.04
    rotate: float = 3.0
    degrade: Degrade = field(default_factory=Degrade)


def photos() -> list[Photo]:
    # the first photo of each kind is the clearest one: scripts and smoke tests pick it
    return [
        # --- VX-500 variable-frequency drive (fault codes F001-F020)
        Photo("vfd-vx500-display-f004.jpg", "display",
              lambda r: obj_lcd_panel(r, ["FAULT F004", "OVERCURRENT", "32.6A  0.0Hz"]),
              equipment_id="vfd-vx500", codes=["F004"],
              description="VX-500 keypad, backlit character LCD showing fault F004 overcurrent.",
              bg=(150, 150, 145), rotate=3.5, degrade=Degrade(light=0.5, glare=0.35, glare_at=(0.2, 0.7), blur=0.7)),
        Photo("vfd-vx500-nameplate.jpg", "nameplate",
              lambda r: obj_nameplate(r, "KESTREL DRIVE SYSTEMS", "AC DRIVE", [
                  ("Model", "VX-500"),
                  ("Type code", "VX-500-7K5-4E20"),
                  ("Serial No.", "VX5-23K-04817"),
                  ("Input", "380-480 V 3~ 50/60 Hz 16.1 A"),
                  ("Output", "0-400 V 3~ 0-599 Hz 16.5 A"),
                  ("Motor", "7.5 kW / 10 hp  IP20"),
              ], "Firmware 3.12   Made in EU   SCCR 65 kA", colour=(200, 110, 0)),
              equipment_id="vfd-vx500", model="VX-500", serial="VX5-23K-04817",
              description="Printed label nameplate on the side of the VX-500 drive.",
              bg=(150, 150, 145), rotate=-3.0, degrade=Degrade(light=0.45, blur=1.3, noise=5)),
        Photo("vfd-vx500-asset-tag-qr.jpg", "asset_tag",
              lambda r: obj_asset_tag(r, "FL-VFD-0001", "NORTHGATE FACILITIES"),
              equipment_id="vfd-vx500", asset_tags=["FL-VFD-0001"],
              description="QR asset tag on the drive enclosure door.",
              bg=(150, 150, 145), fill=0.55, rotate=8.0, tilt=0.05, degrade=Degrade(light=0.4, glare=0.3, glare_at=(0.75, 0.3), blur=1.1)),
        Photo("vfd-vx500-asset-tag-code128.jpg", "asset_tag",
              lambda r: obj_asset_tag(r, "FL-VFD-0002", "NORTHGATE FACILITIES", code128=True),
              equipment_id="vfd-vx500", asset_tags=["FL-VFD-0002"],
              description="Code128 barcode asset tag on a second VX-500 drive.",
              bg=(150, 150, 145), fill=0.7, rotate=-2.0, tilt=0.03, degrade=Degrade(light=0.35, blur=0.9, noise=4)),
        # --- CP-40 pump set with PC-200 controller (alarm codes A01-A16)
        Photo("pump-cp40-display-a12.jpg", "display", lambda r: obj_seven_segment_panel(r, "A12"),
              equipment_id="pump-cp40", codes=["A12"],
              description="PC-200 pump controller, red seven-segment LED display showing alarm A12 (dry-run / no flow).",
              bg=(70, 110, 150), rotate=-4.0, degrade=Degrade(light=0.45, glare=0.45, glare_at=(0.72, 0.78), blur=1.1)),
        Photo("pump-cp40-nameplate.jpg", "nameplate",
              lambda r: obj_nameplate(r, "HALDEN & CREWE PUMPS", "CENTRIFUGAL PUMP", [
                  ("Model", "CP-40"),
                  ("Serial No.", "CP40-204117"),
                  ("Impeller / Size", "174 mm  DN65/DN50"),
                  ("Q / H / n", "40 m3/h  32 m  2900 min-1"),
                  ("Motor", "7.5 kW  400 V 3~ 50 Hz"),
                  ("Current / IP", "15.2 A  IP55  Cl. F"),
                  ("PN / Tmax", "PN16  90 \u00b0C  148 kg"),
              ], "Year 2023   Made in United Kingdom   HC-IOM-0440"),
              equipment_id="pump-cp40", model="CP-40", serial="CP40-204117",
              description="Brushed aluminium pump nameplate, riveted to the bearing bracket.",
              bg=(60, 90, 140), rotate=2.5, tilt=0.05, degrade=Degrade(light=0.4, glare=0.3, glare_at=(0.3, 0.3), blur=1.0)),
        Photo("pump-cp40-asset-tag-qr.jpg", "asset_tag",
              lambda r: obj_asset_tag(r, "FL-PMP-0001", "NORTHGATE FACILITIES"),
              equipment_id="pump-cp40", asset_tags=["FL-PMP-0001"],
              description="Asset tag with QR code on the pump base frame.",
              bg=(70, 110, 150), fill=0.6, rotate=-6.0, degrade=Degrade(light=0.35, blur=1.0, noise=5)),
        # --- RS-22 rotary screw compressor with AirLogic 3 controller (alarm codes E-01...E-42)
        Photo("compressor-rs22-display-e21.jpg", "display",
              lambda r: obj_dot_matrix_panel(r, ["ALARM E-21", "DISCH TEMP HIGH"]),
              equipment_id="compressor-rs22", codes=["E-21"],
              description="AirLogic 3 dot-matrix display showing alarm E-21 (airend discharge temperature high).",
              bg=(40, 45, 50), rotate=-2.5, degrade=Degrade(light=0.4, glare=0.3, glare_at=(0.8, 0.2), blur=1.0)),
        Photo("compressor-rs22-nameplate.jpg", "nameplate",
              lambda r: obj_nameplate(r, "BRANNOCK AIR SYSTEMS", "SCREW COMPRESSOR", [
                  ("Model", "RS-22"),
                  ("Serial No.", "RS22-2317-0456"),
                  ("Max. pressure", "10 bar(g)  145 psig"),
                  ("FAD at 7 bar", "3.65 m3/min"),
                  ("Motor", "22 kW  400 V 3~ 50 Hz 39.5 A"),
                  ("Oil / Weight", "12 l  BAS-46   620 kg"),
              ], "Year 2023   PED 2014/68/EU   Made in UK", colour=(28, 60, 110)),
              equipment_id="compressor-rs22", model="RS-22", serial="RS22-2317-0456",
              description="Compressor nameplate on the canopy side panel.",
              bg=(40, 70, 120), rotate=4.0, tilt=0.05, degrade=Degrade(light=0.5, glare=0.25, glare_at=(0.6, 0.8), blur=1.2)),
        Photo("compressor-rs22-asset-tag-qr.jpg", "asset_tag",
              lambda r: obj_asset_tag(r, "FL-CMP-0001", "NORTHGATE FACILITIES"),
              equipment_id="compressor-rs22", asset_tags=["FL-CMP-0001"],
              description="QR asset tag on the compressor canopy.",
              bg=(40, 70, 120), fill=0.58, rotate=-3.0, degrade=Degrade(light=0.55, blur=1.3, noise=6)),
        # --- MB-35 cold-room refrigeration unit with FC-40 controller (alarm codes AL01-AL14)
        Photo("refrigeration-mb35-display-al06.jpg", "display", lambda r: obj_fc40_controller(r, "AL06"),
              equipment_id="refrigeration-mb35", codes=["AL06"],
              description="FC-40 refrigeration controller, four-digit red LED display showing alarm AL06 (high pressure).",
              bg=(200, 200, 195), rotate=5.0, tilt=0.05,
              degrade=Degrade(light=0.55, glare=0.4, glare_at=(0.3, 0.25), blur=0.8, noise=5)),
        Photo("refrigeration-mb35-nameplate.jpg", "nameplate",
              lambda r: obj_nameplate(r, "FROSTLINE REFRIGERATION", "MONOBLOCK UNIT", [
                  ("Model", "MB-35"),
                  ("Serial No.", "MB35K2304118"),
                  ("Supply", "400 V 3N~ 50 Hz  6.8 A"),
                  ("Refrigerant", "R449A  2.4 kg  3.35 t CO2e"),
                  ("PS high / low", "28 bar / 16 bar"),
                  ("Cooling capacity", "3.5 kW (0 \u00b0C / 32 \u00b0C)"),
              ], "Year 2023   Contains fluorinated greenhouse gases   IP44", colour=(0, 120, 140)),
              equipment_id="refrigeration-mb35", model="MB-35", serial="MB35K2304118",
              description="Nameplate on the condenser side of the MB-35 unit, photographed at an angle.",
              bg=(200, 200, 195), rotate=-5.0, tilt=0.06, degrade=Degrade(light=0.45, glare=0.3, glare_at=(0.7, 0.6), blur=1.1)),
        Photo("refrigeration-mb35-asset-tag-qr.jpg", "asset_tag",
              lambda r: obj_asset_tag(r, "FL-REF-0001", "NORTHGATE FACILITIES"),
              equipment_id="refrigeration-mb35", asset_tags=["FL-REF-0001"],
              description="QR asset tag on the cold-room unit housing, in dim light.",
              bg=(200, 200, 195), fill=0.52, rotate=4.0, degrade=Degrade(light=0.6, blur=1.2, noise=7)),
        # --- harder and mixed shots
        Photo("pump-cp40-display-a04-dim.jpg", "display", lambda r: obj_seven_segment_panel(r, "A04"),
              equipment_id="pump-cp40", codes=["A04"],
              description="PC-200 showing alarm A04 (motor overload), photographed in a dim plant room.",
              bg=(60, 95, 130), rotate=6.0, tilt=0.05,
              expected_flags=["image_dark"],
              degrade=Degrade(light=0.6, blur=1.2, noise=7, exposure=0.42, quality=80)),
        Photo("compressor-rs22-display-e31-blur.jpg", "display",
              lambda r: obj_dot_matrix_panel(r, ["ALARM E-31", "SEPARATOR DP HIGH"]),
              equipment_id="compressor-rs22", codes=["E-31"],
              description="AirLogic 3 showing alarm E-31 (separator differential pressure high), slightly out of focus.",
              expected_flags=["image_blurry"],
              bg=(40, 45, 50), rotate=1.5, tilt=0.03, degrade=Degrade(light=0.35, blur=2.2, noise=4)),
        Photo("vfd-vx500-cabinet-f005-with-tag.jpg", "display",
              lambda r: obj_cabinet_door(r, obj_lcd_panel(r, ["FAULT F005", "DC OVERVOLTAGE", "0.0A  0.0Hz"]),
                                         obj_asset_tag(r, "FL-VFD-0001", "NORTHGATE FACILITIES")),
              equipment_id="vfd-vx500", codes=["F005"], asset_tags=["FL-VFD-0001"],
              description="Cabinet door with the VX-500 keypad showing F005 and the drive's QR asset tag beside it.",
              bg=(90, 90, 88), fill=0.9, rotate=-2.0, tilt=0.035,
              degrade=Degrade(light=0.4, glare=0.35, glare_at=(0.25, 0.2), blur=1.0)),
        Photo("vfd-vx500-display-running.jpg", "display",
              lambda r: obj_lcd_panel(r, ["RUN  42.5 Hz", "12.8A  5.9kW", "REF 42.5 Hz"]),
              equipment_id="vfd-vx500",
              description="VX-500 keypad in normal operation: frequency, current and power, no fault code.",
              bg=(150, 150, 145), rotate=-4.0, degrade=Degrade(light=0.45, glare=0.25, glare_at=(0.7, 0.75), blur=0.7)),
        Photo("pump-cp40-nameplate-glare.jpg", "nameplate",
              lambda r: obj_nameplate(r, "HALDEN & CREWE PUMPS", "CENTRIFUGAL PUMP", [
                  ("Model", "CP-40"),
                  ("Serial No.", "CP40-209352"),
                  ("Impeller / Size", "160 mm  DN65/DN50"),
                  ("Q / H / n", "32 m3/h  26 m  2900 min-1"),
                  ("Motor", "5.5 kW  400 V 3~ 50 Hz"),
                  ("Current / IP", "11.1 A  IP55  Cl. F"),
                  ("PN / Tmax", "PN16  90 \u00b0C  121 kg"),
              ], "Year 2024   Made in United Kingdom   HC-IOM-0440"),
              equipment_id="pump-cp40", model="CP-40", serial="CP40-209352",
              expected_flags=["image_glare"],
              description="Nameplate of a second CP-40 (5.5 kW) with a strong flash reflection on its lower half.",
              bg=(60, 90, 140), rotate=-1.5, tilt=0.04,
              degrade=Degrade(light=0.3, glare=1.6, glare_size=2.2, glare_at=(0.62, 0.66), blur=0.8)),
        # --- scenes with no code at all
        Photo("scene-pipe-flange.jpg", "scene", obj_flange,
              description="A bolted pipe flange on a pump discharge line; no display, tag or nameplate.",
              bg=(120, 120, 115), fill=0.8, rotate=1.0, degrade=Degrade(light=0.5, glare=0.2, glare_at=(0.45, 0.4), blur=0.6)),
        Photo("scene-display-off.jpg", "scene", lambda r: obj_seven_segment_panel(r, "   ", lit=False),
              equipment_id="pump-cp40",
              description="PC-200 controller with the display switched off (no code shown).",
              bg=(70, 110, 150), rotate=2.0, degrade=Degrade(light=0.45, blur=1.0)),
    ]


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    manifest = []
    for p in photos():
        rng = rng_for(p.file)
        obj = p.make(rng)
        bg = background(rng, p.size, p.bg)
        composed = place(rng, bg, obj, p.fill, p.tilt, p.rotate)
        final = degrade(rng, composed, p.degrade)
        nbytes = save_jpeg(final, OUT / p.file, p.degrade.quality)
        print(f"assets/photos/{p.file}: {p.size[0]}x{p.size[1]}, {nbytes // 1024} KB")
        manifest.append({
            "file": p.file, "kind": p.kind, "equipment_id": p.equipment_id, "codes": p.codes,
            "asset_tags": p.asset_tags, "model": p.model, "serial": p.serial, "expected_flags": p.expected_flags,
            "description": p.description,
        })
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
