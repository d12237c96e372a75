"""Synthetic photo set for the perception eval: control-panel displays in several
styles (seven-segment LED, LCD with ghost segments, dot-matrix, backlit character
LCD), nameplates, asset tags (QR, DataMatrix, Code128, Code39, EAN-13) and
code-free photos, each put through camera degradations (perspective, rotation,
motion and focus blur, noise, glare, low light, heavy JPEG, distance).

Run `python tests/eval/perception/generate.py [OUT]`; writes OUT/*.jpg and
OUT/truth.json (default tests/eval/out/perception). Deterministic for a seed;
`ensure_set()` regenerates only when the generator version or seed changed.
Also defines `EvalCatalog`, a small in-memory CatalogLookup for the eval.
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import zxingcpp

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.domain import Equipment  # noqa: E402

VERSION = 3
DEFAULT_OUT = ROOT / "tests" / "eval" / "out" / "perception"
W, H = 1024, 768

# Code schemes of several makers. The catalog knows all of these plus distractors never shown.
SHOWN_CODES = ["F004", "F012", "F031", "E-21", "E-07", "E-33", "OC1", "OU2", "A12", "A05", "Err 07", "Err 12",
               "2310", "1402", "AL-3", "H45", "LU", "P.05"]
DISTRACTOR_CODES = ["F001", "F002", "F005", "F013", "E-01", "E-02", "E-22", "OC2", "OC3", "OH", "A01", "A13",
                    "Err 01", "Err 11", "2311", "2301", "1400", "AL-1", "H41", "P.01", "UV", "GF"]
KNOWN_CODES = SHOWN_CODES + DISTRACTOR_CODES
SEGMENT_CODES = ["F004", "F012", "F031", "E-21", "E-07", "E-33", "OC1", "OU2", "A12", "A05", "2310", "1402",
                 "H45", "LU", "Err 07", "AL-3"]
NON_CODE_DISPLAY = ["50.0", "RUN", "READY", "1450", "23.5", "0.00", "rdy", "On", "88.8", "120", "StoP"]
EQUIPMENT = [
    Equipment(id="pump-cp40", name="Centrifugal pump CP-40", manufacturer="Nordwerk", model="CP-40",
              aliases=["CP40"], asset_tags=["FL-PMP-0001", "FL-PMP-0002"], serial_patterns=[r"^CP40-\d{6}$"]),
    Equipment(id="drive-kx220", name="Variable-speed drive KX-220", manufacturer="Helvar Drives", model="KX-220",
              aliases=["KX220"], asset_tags=["FL-VSD-0107"], serial_patterns=[r"^KX\d{8}$"]),
    Equipment(id="comp-rs75", name="Screw compressor RS-75", manufacturer="Aerotec", model="RS-75",
              aliases=["RS75"], asset_tags=["FL-CMP-0042", "4006381333931"]),
]


class EvalCatalog:
    """A small real in-memory catalog: known codes, tag -> equipment, fuzzy model matching."""

    def __init__(self, equipment: list[Equipment] | None = None, codes: list[str] | None = None) -> None:
        self.items = list(equipment if equipment is not None else EQUIPMENT)
        self.codes = set(codes if codes is not None else KNOWN_CODES)

    def known_codes(self, equipment_id: str | None = None) -> set[str]:
        return set(self.codes)

    def equipment_for_tag(self, tag: str) -> Equipment | None:
        for eq in self.items:
            if tag.strip().upper() in (t.upper() for t in eq.asset_tags):
                return eq
        return None

    def match_model(self, text: str) -> list[tuple[Equipment, float]]:
        from rapidfuzz import fuzz

        key = "".join(ch for ch in text.upper() if ch.isalnum())
        out = []
        for eq in self.items:
            names = [eq.model, *eq.aliases]
            best = max(fuzz.ratio(key, "".join(ch for ch in n.upper() if ch.isalnum())) for n in names) / 100.0
            if best >= 0.6:
                out.append((eq, best))
        return sorted(out, key=lambda t: -t[1])


# --------------------------------------------------------------------------- seven segments

SEG_MAP = {
    "0": "abcdef", "O": "abcdef", "1": "bc", "2": "abdeg", "3": "abcdg", "4": "bcfg", "5": "acdfg", "S": "acdfg",
    "6": "acdefg", "7": "abc", "8": "abcdefg", "9": "abcdfg", "A": "abcefg", "b": "cdefg", "B": "cdefg",
    "C": "adef", "c": "deg", "d": "bcdeg", "D": "bcdeg", "E": "adefg", "F": "aefg", "H": "bcefg", "h": "cefg",
    "L": "def", "n": "ceg", "o": "cdeg", "P": "abefg", "r": "eg", "R": "eg", "t": "defg", "T": "defg",
    "U": "bcdef", "u": "cde", "y": "bcdfg", "-": "g", " ": "",
}


def _segments(x: float, y: float, w: float, h: float, t: float, slant: float) -> dict[str, np.ndarray]:
    """Hexagonal segment polygons of one digit cell (top-left x, y), slanted by `slant` (x per y)."""
    g = t * 0.12  # gap between segments
    half = h / 2

    def hseg(cx0, cx1, cy):
        return [(cx0 + g, cy), (cx0 + g + t / 2, cy - t / 2), (cx1 - g - t / 2, cy - t / 2), (cx1 - g, cy),
                (cx1 - g - t / 2, cy + t / 2), (cx0 + g + t / 2, cy + t / 2)]

    def vseg(cx, cy0, cy1):
        return [(cx, cy0 + g), (cx + t / 2, cy0 + g + t / 2), (cx + t / 2, cy1 - g - t / 2), (cx, cy1 - g),
                (cx - t / 2, cy1 - g - t / 2), (cx - t / 2, cy0 + g + t / 2)]

    l, r = x + t / 2, x + w - t / 2
    top, mid, bot = y + t / 2, y + half, y + h - t / 2
    segs = {"a": hseg(l, r, top), "g": hseg(l, r, mid), "d": hseg(l, r, bot),
            "f": vseg(l, top, mid), "b": vseg(r, top, mid), "e": vseg(l, mid, bot), "c": vseg(r, mid, bot)}
    out = {}
    for k, pts in segs.items():
        arr = np.array([(px + (y + h - py) * slant, py) for px, py in pts], dtype=np.float32)
        out[k] = np.round(arr * 8).astype(np.int32)  # 3 bits of sub-pixel precision
    return out


def draw_seven_segment(img: np.ndarray, text: str, x: int, y: int, ch: int, lit: tuple, ghost: tuple | None,
                       slant: float = 0.1) -> int:
    cw = int(ch * 0.55)
    t = max(3.0, ch * 0.12)
    pos = x
    for char in text:
        if char == ".":
            cv2.circle(img, (int(pos - cw * 0.12), int(y + ch - t / 2)), int(t * 0.6), lit, -1, cv2.LINE_AA)
            continue
        segs = _segments(pos, y, cw, ch, t, slant)
        on = SEG_MAP.get(char, "")
        for name, poly in segs.items():
            if name in on:
                cv2.fillPoly(img, [poly], lit, cv2.LINE_AA, shift=3)
            elif ghost is not None:
                cv2.fillPoly(img, [poly], ghost, cv2.LINE_AA, shift=3)
        pos += int(cw * 1.35)
    return pos


def segment_text(code: str, rng: random.Random) -> str:
    """How a seven-segment display shows a code (separators as the display has them)."""
    if code.startswith("Err "):
        return "Err" + code[4:] if rng.random() < 0.5 else code.replace(" ", " ")
    return code


# --------------------------------------------------------------------------- dot matrix (5x7)

FONT_5X7 = {
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
    "A": ["01110", "10001", "10001", "11111", "10001", "10001", "10001"],
    "C": ["01110", "10001", "10000", "10000", "10000", "10001", "01110"],
    "D": ["11100", "10010", "10001", "10001", "10001", "10010", "11100"],
    "E": ["11111", "10000", "10000", "11110", "10000", "10000", "11111"],
    "F": ["11111", "10000", "10000", "11110", "10000", "10000", "10000"],
    "H": ["10001", "10001", "10001", "11111", "10001", "10001", "10001"],
    "L": ["10000", "10000", "10000", "10000", "10000", "10000", "11111"],
    "M": ["10001", "11011", "10101", "10101", "10001", "10001", "10001"],
    "O": ["01110", "10001", "10001", "10001", "10001", "10001", "01110"],
    "P": ["11110", "10001", "10001", "11110", "10000", "10000", "10000"],
    "R": ["11110", "10001", "10001", "11110", "10100", "10010", "10001"],
    "T": ["11111", "00100", "00100", "00100", "00100", "00100", "00100"],
    "U": ["10001", "10001", "10001", "10001", "10001", "10001", "01110"],
    "N": ["10001", "11001", "10101", "10011", "10001", "10001", "10001"],
    "Y": ["10001", "10001", "01010", "00100", "00100", "00100", "00100"],
    "-": ["00000", "00000", "00000", "11111", "00000", "00000", "00000"],
    ".": ["00000", "00000", "00000", "00000", "00000", "01100", "01100"],
    ":": ["00000", "01100", "01100", "00000", "01100", "01100", "00000"],
    " ": ["00000"] * 7,
}


def draw_dot_matrix(img: np.ndarray, text: str, x: int, y: int, pitch: int, lit: tuple, ghost: tuple | None) -> int:
    r = max(1, int(pitch * 0.42))
    pos = x
    for char in text.upper():
        glyph = FONT_5X7.get(char, FONT_5X7[" "])
        for row, bits in enumerate(glyph):
            for col, bit in enumerate(bits):
                c = (pos + col * pitch + pitch // 2, y + row * pitch + pitch // 2)
                if bit == "1":
                    cv2.circle(img, c, r, lit, -1, cv2.LINE_AA)
                elif ghost is not None:
                    cv2.circle(img, c, r, ghost, -1, cv2.LINE_AA)
        pos += 6 * pitch
    return pos


# --------------------------------------------------------------------------- scenes


def panel_background(rng: random.Random) -> np.ndarray:
    base = rng.choice([(170, 170, 165), (150, 155, 160), (200, 200, 195), (120, 125, 130), (185, 190, 200)])
    img = np.zeros((H, W, 3), np.float32)
    grad = np.linspace(rng.uniform(0.85, 1.0), rng.uniform(0.9, 1.1), W, dtype=np.float32)[None, :, None]
    img[:] = np.array(base, np.float32)[None, None, :]
    img *= grad
    img += np.random.default_rng(rng.randrange(1 << 30)).normal(0, 3, img.shape).astype(np.float32)
    img = np.clip(img, 0, 255).astype(np.uint8)
    for _ in range(rng.randint(2, 5)):  # screws
        c = (rng.randrange(20, W - 20), rng.choice([rng.randrange(15, 60), rng.randrange(H - 60, H - 15)]))
        cv2.circle(img, c, 9, (90, 90, 90), -1, cv2.LINE_AA)
        cv2.line(img, (c[0] - 6, c[1]), (c[0] + 6, c[1]), (50, 50, 50), 2)
    return img


def add_buttons(img: np.ndarray, rng: random.Random, y0: int, labels: list[str]) -> None:
    x = rng.randrange(60, 200)
    for label in labels:
        colour = rng.choice([(40, 40, 200), (40, 160, 40), (60, 60, 60), (30, 140, 220)])
        cv2.circle(img, (x + 30, y0 + 30), 28, colour, -1, cv2.LINE_AA)
        cv2.circle(img, (x + 30, y0 + 30), 28, (30, 30, 30), 2, cv2.LINE_AA)
        cv2.putText(img, label, (x, y0 + 85), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (30, 30, 30), 2, cv2.LINE_AA)
        x += rng.randrange(140, 200)
        if x > W - 120:
            break


def place_display(rng: random.Random, size_scale: float) -> tuple[int, int, int, int]:
    dw = int(W * rng.uniform(0.45, 0.6) * size_scale)
    dh = int(dw * rng.uniform(0.32, 0.42))
    x = rng.randrange(40, max(41, W - dw - 40))
    y = rng.randrange(60, max(61, int(H * 0.55) - dh))
    return x, y, dw, dh


def scene_display(style: str, text: str, rng: random.Random, size_scale: float = 1.0,
                  label: str | None = None) -> np.ndarray:
    img = panel_background(rng)
    x, y, dw, dh = place_display(rng, size_scale)
    cv2.rectangle(img, (x - 12, y - 12), (x + dw + 12, y + dh + 12), (45, 45, 48), -1)  # bezel
    n = max(3, len(text.replace(".", "")))
    if style == "led":
        bg = (18, 18, 22)
        lit = rng.choice([(40, 40, 235), (60, 230, 60), (30, 170, 250)])
        ghost = tuple(int(b + (c - b) * rng.uniform(0.08, 0.18)) for b, c in zip(bg, lit, strict=True))
        cv2.rectangle(img, (x, y), (x + dw, y + dh), bg, -1)
        ch = int(min(dh * 0.72, (dw * 0.86) / (n * 0.55 * 1.35)))
        draw_seven_segment(img, text, x + int(dw * 0.07), y + (dh - ch) // 2, ch, lit, ghost, rng.uniform(0.0, 0.14))
    elif style == "lcd":
        bg = rng.choice([(150, 185, 165), (170, 190, 180), (190, 200, 195)])
        lit = (40, 45, 40)
        ghost = tuple(max(0, v - rng.randint(10, 22)) for v in bg)
        cv2.rectangle(img, (x, y), (x + dw, y + dh), bg, -1)
        ch = int(min(dh * 0.72, (dw * 0.86) / (n * 0.55 * 1.35)))
        draw_seven_segment(img, text, x + int(dw * 0.07), y + (dh - ch) // 2, ch, lit, ghost, rng.uniform(0.0, 0.12))
    elif style == "dot":
        dark = rng.random() < 0.5
        bg = (25, 20, 15) if dark else (60, 170, 120)
        lit = (40, 190, 250) if dark else (30, 40, 30)
        ghost = (40, 35, 30) if dark else (55, 150, 105)
        cv2.rectangle(img, (x, y), (x + dw, y + dh), bg, -1)
        nchar = len(text)
        pitch = max(3, int(min((dw * 0.9) / (nchar * 6), (dh * 0.7) / 7)))
        draw_dot_matrix(img, text, x + int(dw * 0.05), y + (dh - 7 * pitch) // 2, pitch, lit, ghost)
    else:  # backlit character LCD with Hershey text; may carry a second line
        blue = rng.random() < 0.5
        bg = (200, 120, 40) if blue else (60, 220, 190)
        fg = (250, 250, 245) if blue else (30, 40, 30)
        cv2.rectangle(img, (x, y), (x + dw, y + dh), bg, -1)
        glow = np.zeros_like(img)
        cv2.ellipse(glow, (x + dw // 2, y + dh // 2), (dw // 2, dh // 2), 0, 0, 360, (40, 40, 40), -1)
        img = cv2.add(img, cv2.GaussianBlur(glow, (0, 0), 30))
        lines = text.split("\n")
        scale = min(dh / (len(lines) * 40.0), dw / (max(len(s) for s in lines) * 22.0))
        for i, s in enumerate(lines):
            cv2.putText(img, s, (x + int(dw * 0.06), y + int(dh * (i + 1) / (len(lines) + 0.4))),
                        cv2.FONT_HERSHEY_DUPLEX, scale, fg, max(1, int(scale * 2)), cv2.LINE_AA)
    if label:
        cv2.putText(img, label, (x, y - 22), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (20, 20, 20), 2, cv2.LINE_AA)
    add_buttons(img, rng, min(H - 110, y + dh + 40), rng.sample(["START", "STOP", "RESET", "MENU", "ESC", "ENTER"], 3))
    return img


def scene_nameplate(rng: random.Random, eq: Equipment, serial: str) -> tuple[np.ndarray, dict]:
    img = panel_background(rng)
    pw, ph = int(W * rng.uniform(0.6, 0.75)), int(H * rng.uniform(0.5, 0.62))
    x, y = rng.randrange(30, W - pw - 30), rng.randrange(30, H - ph - 30)
    plate = np.full((ph, pw, 3), rng.choice([(205, 205, 200), (185, 190, 195), (215, 210, 195)]), np.uint8)
    noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 6, (ph, 1, 1))
    plate = np.clip(plate.astype(np.float32) + noise, 0, 255).astype(np.uint8)  # brushed metal streaks
    ink = (25, 25, 30)
    volts = rng.choice(["400 V", "230/400 V", "480 V", "690 V"])
    amps = f"{rng.uniform(2, 60):.1f} A"
    power = rng.choice(["7.5 kW", "11 kW", "15 kW", "5.5 kW", "20 HP"])
    rpm = f"{rng.choice([1450, 2900, 1470, 960])} rpm"
    ip = rng.choice(["IP55", "IP54", "IP65"])
    model_label = rng.choice(["Model:", "Type", "Model No.", "Typ:"])
    serial_label = rng.choice(["S/N:", "Serial No.", "Ser. No.", "SN:"])
    rows = [
        (eq.manufacturer.upper(), 1.3, 3),
        (f"{model_label} {eq.model}", 1.0, 2),
        (f"{serial_label} {serial}", 1.0, 2),
        (f"{volts}  3~  {rng.choice(['50 Hz', '60 Hz'])}", 0.9, 2),
        (f"{amps}   {power}", 0.9, 2),
        (f"{rpm}   {ip}", 0.9, 2),
    ]
    ty = int(ph * 0.16)
    step = int((ph * 0.8) / len(rows))
    for text, scale, th in rows:
        s = scale * pw / 700
        cv2.putText(plate, text, (int(pw * 0.06), ty), cv2.FONT_HERSHEY_SIMPLEX, s, ink, max(1, int(th * pw / 700)),
                    cv2.LINE_AA)
        ty += step
    for cx, cy in ((12, 12), (pw - 12, 12), (12, ph - 12), (pw - 12, ph - 12)):
        cv2.circle(plate, (cx, cy), 6, (120, 120, 120), -1)
    img[y:y + ph, x:x + pw] = plate
    truth = {"model": eq.model, "serial": serial, "voltage": volts.replace(" ", "").replace("V", " V")}
    return img, truth


def barcode_image(text: str, fmt, module: int) -> np.ndarray:
    bc = zxingcpp.create_barcode(text, fmt)
    img = np.array(zxingcpp.write_barcode_to_image(bc, scale=module))
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    return img


def scene_tag(rng: random.Random, text: str, fmt, size_scale: float = 1.0) -> np.ndarray:
    img = panel_background(rng)
    linear = fmt not in (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.DataMatrix)
    code = barcode_image(text, fmt, 3 if linear else 6)
    if linear:
        code = cv2.resize(code, (code.shape[1], max(code.shape[0], 90)), interpolation=cv2.INTER_NEAREST)
    target = (W * (0.45 if linear else 0.28)) * size_scale
    s = target / code.shape[1]
    code = cv2.resize(code, (max(10, int(code.shape[1] * s)), max(10, int(code.shape[0] * s))),
                      interpolation=cv2.INTER_NEAREST if s >= 1 else cv2.INTER_AREA)
    ch, cw = code.shape[:2]
    lw, lh = cw + 60, ch + 110
    x, y = rng.randrange(30, max(31, W - lw - 30)), rng.randrange(30, max(31, H - lh - 30))
    label = np.full((lh, lw, 3), 245, np.uint8)
    cv2.putText(label, "ASSET", (20, 32), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (30, 30, 30), 2, cv2.LINE_AA)
    label[50:50 + ch, 30:30 + cw] = cv2.cvtColor(code, cv2.COLOR_GRAY2BGR)
    cv2.putText(label, text, (20, lh - 18), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (30, 30, 30), 2, cv2.LINE_AA)
    img[y:y + lh, x:x + lw] = label
    return img


def scene_plain(rng: random.Random) -> np.ndarray:
    img = panel_background(rng)
    words = ["PUMP STATION 2", "LINE 3 - MIXER", "CAUTION HOT SURFACE", "MAIN SWITCH", "V2.10",
             "Do not open under load", "Service 2024-03", "HYDRAULIC UNIT", "Tel 0800 123 456"]
    for i, w in enumerate(rng.sample(words, 3)):
        cv2.putText(img, w, (rng.randrange(40, 300), 120 + i * 160), cv2.FONT_HERSHEY_SIMPLEX,
                    rng.uniform(0.9, 1.4), (30, 30, 30), 2, cv2.LINE_AA)
    add_buttons(img, rng, 560, ["START", "STOP", "MENU"])
    return img


# --------------------------------------------------------------------------- degradations


def perspective(img, rng, amount=0.1):
    h, w = img.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = src + np.float32([[rng.uniform(-1, 1) * amount * w, rng.uniform(-1, 1) * amount * h] for _ in range(4)])
    m = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE)


def rotate(img, rng, max_deg=25):
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-max_deg, max_deg), 1.0)
    return cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE)


def motion_blur(img, rng):
    k = rng.choice([5, 7, 9])
    kernel = np.zeros((k, k), np.float32)
    kernel[k // 2, :] = 1.0 / k
    m = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), rng.uniform(0, 180), 1.0)
    kernel = cv2.warpAffine(kernel, m, (k, k))
    kernel /= max(kernel.sum(), 1e-6)
    return cv2.filter2D(img, -1, kernel)


def focus_blur(img, rng):
    return cv2.GaussianBlur(img, (0, 0), rng.uniform(1.2, 2.2))


def noise(img, rng):
    n = np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(6, 14), img.shape)
    return np.clip(img.astype(np.float32) + n, 0, 255).astype(np.uint8)


def glare(img, rng):
    h, w = img.shape[:2]
    layer = np.zeros((h, w), np.float32)
    c = (rng.randrange(w // 5, 4 * w // 5), rng.randrange(h // 5, 4 * h // 5))
    cv2.ellipse(layer, c, (rng.randrange(50, 130), rng.randrange(25, 70)), rng.uniform(0, 180), 0, 360, 1.0, -1)
    layer = cv2.GaussianBlur(layer, (0, 0), 25) * rng.uniform(180, 260)
    return np.clip(img.astype(np.float32) + layer[:, :, None], 0, 255).astype(np.uint8)


def low_light(img, rng):
    dim = img.astype(np.float32) * rng.uniform(0.22, 0.38)
    dim += np.random.default_rng(rng.randrange(1 << 30)).normal(0, 3, img.shape)
    return np.clip(dim, 0, 255).astype(np.uint8)


def heavy_jpeg(img, rng):
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(12, 22)])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


DEGRADATIONS = {"perspective": perspective, "rotation": rotate, "motion_blur": motion_blur,
                "focus_blur": focus_blur, "noise": noise, "glare": glare, "low_light": low_light,
                "heavy_jpeg": heavy_jpeg}


def degrade(img, rng, names):
    order = ["perspective", "rotation", "glare", "low_light", "motion_blur", "focus_blur", "noise", "heavy_jpeg"]
    for name in order:
        if name in names:
            img = DEGRADATIONS[name](img, rng)
    return img


# --------------------------------------------------------------------------- the set


@dataclass
class Item:
    file: str
    kind: str  # display | nameplate | tag | code_free
    style: str
    codes: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    degradations: list[str] = field(default_factory=list)
    model: str | None = None
    serial: str | None = None
    equipment_id: str | None = None


def _pick_degradations(rng: random.Random, i: int) -> list[str]:
    names = list(DEGRADATIONS)
    first = names[i % len(names)]  # every degradation is well represented
    out = [first]
    if rng.random() < 0.4:
        second = rng.choice([n for n in names if n != first and {n, first} != {"motion_blur", "focus_blur"}])
        out.append(second)
    if rng.random() < 0.5 and "perspective" not in out:
        out.append("perspective")
    return out


def build(out: Path = DEFAULT_OUT, seed: int = 20261122) -> list[Item]:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    items: list[Item] = []
    counter = 0

    def save(img, item: Item) -> None:
        nonlocal counter
        counter += 1
        cv2.imwrite(str(out / item.file), img, [cv2.IMWRITE_JPEG_QUALITY, 90])
        items.append(item)

    # displays with codes: 4 styles x 20
    for style in ("led", "lcd", "dot", "backlit"):
        for i in range(20):
            if style in ("led", "lcd"):
                code = rng.choice(SEGMENT_CODES)
                shown = segment_text(code, rng)
                label = rng.choice([None, None, "FAULT", "ALARM"])
            elif style == "dot":
                code = rng.choice(SHOWN_CODES)
                shown = rng.choice(["", "ALARM ", "ERR ", "FAULT "]) + code.upper() if not code.upper().startswith("ERR") else code.upper()
                label = None
            else:
                code = rng.choice(SHOWN_CODES)
                first = rng.choice(["ALARM {c}", "FAULT {c}", "{c}", "Code: {c}"]).format(c=code)
                shown = first + "\n" + rng.choice(["Overcurrent", "DC bus overvolt", "Motor overtemp", "Phase loss",
                                                   "Check filter", "Low pressure"])
                label = None
            degr = _pick_degradations(rng, i)
            size = 1.0
            if i % 7 == 3:
                degr.append("distance")
                size = rng.uniform(0.5, 0.65)
            img = scene_display(style, shown, rng, size, label)
            img = degrade(img, rng, degr)
            save(img, Item(f"display_{style}_{i:02d}.jpg", "display", style, codes=[code], degradations=degr))

    # nameplates: 14
    for i in range(14):
        eq = EQUIPMENT[i % len(EQUIPMENT)]
        if eq.id == "pump-cp40":
            serial = f"CP40-{rng.randrange(10**5, 10**6)}"
        elif eq.id == "drive-kx220":
            serial = f"KX{rng.randrange(10**7, 10**8)}"
        else:
            serial = f"A{rng.randrange(10**6, 10**7)}"
        img, _truth = scene_nameplate(rng, eq, serial)
        degr = _pick_degradations(rng, i)
        degr = [d for d in degr if d not in ("motion_blur", "low_light")] or ["noise"]
        img = degrade(img, rng, degr)
        save(img, Item(f"nameplate_{i:02d}.jpg", "nameplate", "nameplate", model=eq.model, serial=serial,
                       equipment_id=eq.id, degradations=degr))

    # tags: 22 QR, 6 DataMatrix, 6 Code128, 4 Code39, 2 EAN-13
    fmts = ([("qr", zxingcpp.BarcodeFormat.QRCode)] * 22 + [("datamatrix", zxingcpp.BarcodeFormat.DataMatrix)] * 6
            + [("code128", zxingcpp.BarcodeFormat.Code128)] * 6 + [("code39", zxingcpp.BarcodeFormat.Code39)] * 4
            + [("ean13", zxingcpp.BarcodeFormat.EAN13)] * 2)
    tag_values = [t for eq in EQUIPMENT for t in eq.asset_tags if not t.isdigit()] + ["FL-GEN-0310", "FL-HVAC-1203"]
    for i, (name, fmt) in enumerate(fmts):
        text = "4006381333931" if name == "ean13" else rng.choice(tag_values)
        if name == "code39":
            text = text.upper()
        degr = _pick_degradations(rng, i)
        size = 1.0
        if i % 6 == 5:
            degr.append("distance")
            size = 0.55
        img = scene_tag(rng, text, fmt, size)
        img = degrade(img, rng, degr)
        save(img, Item(f"tag_{name}_{i:02d}.jpg", "tag", name, tags=[text], degradations=degr))

    # code-free: displays showing values/status, plain panels
    for i in range(24):
        if i % 3 == 2:
            img = scene_plain(rng)
            style = "plain"
        else:
            style = rng.choice(["led", "lcd", "dot", "backlit"])
            text = rng.choice(NON_CODE_DISPLAY)
            if style == "backlit":
                text = rng.choice(["READY", "RUNNING 50.0 Hz", "Set 1450 rpm", "Pressure 6.2 bar"]) + "\n" + \
                    rng.choice(["Auto mode", "No faults", "Press ENTER"])
            elif style == "dot":
                text = rng.choice(["READY", "RUN 50.0", "P 6.2", "AUTO", "TEMP 23.5"])
            img = scene_display(style, text, rng, 1.0, rng.choice([None, "STATUS", "Hz"]))
        degr = _pick_degradations(rng, i)
        img = degrade(img, rng, degr)
        save(img, Item(f"nocode_{style}_{i:02d}.jpg", "code_free", style, degradations=degr))

    (out / "truth.json").write_text(json.dumps({"version": VERSION, "seed": seed,
                                                "items": [it.__dict__ for it in items]}, indent=1))
    return items


def ensure_set(out: Path = DEFAULT_OUT, seed: int = 20261122) -> list[Item]:
    """The eval set, regenerated only when missing or made by another generator version or seed."""
    truth = out / "truth.json"
    if truth.exists():
        try:
            data = json.loads(truth.read_text())
        except json.JSONDecodeError:
            data = {}
        if data.get("version") == VERSION and data.get("seed") == seed and all(
                (out / it["file"]).exists() for it in data.get("items", [])):
            return [Item(**it) for it in data["items"]]
    return build(out, seed)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    made = build(target)
    print(f"{len(made)} photos in {target}")
