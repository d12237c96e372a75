"""The top of an answer: what matters first to a technician at the machine — the code that
was read (large) with how sure the read was, the overall confidence, and one line saying why
Fieldlens is unsure. `top_facts` derives these from an Answer (using the dedicated Answer
fields `code_read` and `unsure_summary`); `answer_top` draws them."""

from __future__ import annotations

from dataclasses import dataclass

import flet as ft

from app import theme
from app.components.common import sem
from app.components.words import FLAG_WORDS, words
from app.theme import fs
from assistant.domain import Answer, Confidence, FlagCode, ObservationKind

_CODE_KINDS = {ObservationKind.FAULT_CODE.value, "unknown_code"}
_NOT_A_REASON = {FlagCode.SAFETY_CRITICAL, FlagCode.OFFLINE_FALLBACK}


@dataclass(frozen=True)
class TopFacts:
    code: str  # "" when no code was read
    read_confidence: float | None  # 0..1, None when no code was read
    read_confirmed: bool
    known_code: bool  # the library lists the code
    confidence: Confidence
    unsure: str  # one line; "" when nothing is flagged


def top_facts(answer: Answer) -> TopFacts:
    code, read_conf, confirmed, known = "", None, False, True
    read = answer.code_read
    if read is not None:
        code, read_conf, known = read.value, read.confidence, read.listed
        confirmed = any(o.confirmed and o.value == read.value for o in answer.observations)
        read_conf = 1.0 if confirmed else read_conf
    else:
        codes = [o for o in answer.observations if str(getattr(o.kind, "value", o.kind)) in _CODE_KINDS]
        codes.sort(key=lambda o: (not o.confirmed, str(o.kind) != ObservationKind.FAULT_CODE.value, -o.confidence))
        if codes:
            best = codes[0]
            code, read_conf, confirmed = best.value, (1.0 if best.confirmed else best.confidence), best.confirmed
            known = str(getattr(best.kind, "value", best.kind)) == ObservationKind.FAULT_CODE.value
    unsure = answer.unsure_summary or (read.message if read is not None and not read.listed else "")
    if not unsure:
        if answer.unsure_because:
            unsure = answer.unsure_because[0]
        else:
            flag = next((f for f in answer.flags if f.code not in _NOT_A_REASON), None)
            if flag is not None:
                unsure = flag.message or words(FLAG_WORDS, flag.code)
    if not unsure and code and read_conf is not None and read_conf < 0.9 and not confirmed:
        unsure = f"The code {code} was read with {round(read_conf * 100)} % confidence: confirm it on the display."
    return TopFacts(code=code or "", read_confidence=read_conf, read_confirmed=confirmed, known_code=known,
                    confidence=answer.confidence, unsure=unsure.splitlines()[0].strip() if unsure else "")


def _read_colours(conf: float | None, confirmed: bool) -> tuple[str, str]:
    if confirmed or (conf is not None and conf >= 0.9):
        return theme.OK_BG, theme.OK_FG
    if conf is not None and conf >= 0.6:
        return theme.SAFETY_BG, theme.SAFETY_FG
    return theme.CRITICAL_BG, theme.CRITICAL_FG


def answer_top(answer: Answer) -> ft.Control:
    f = top_facts(answer)
    blocks: list[ft.Control] = []
    if f.code:
        bg, fg = _read_colours(f.read_confidence, f.read_confirmed)
        sure = "confirmed by you" if f.read_confirmed else f"read {round((f.read_confidence or 0) * 100)} % sure"
        blocks.append(sem("answer-top-code", ft.Container(ft.Column([
            ft.Text("Code read" if f.known_code else "Code read (not in the manuals)", size=fs(13), color=fg,
                    weight=ft.FontWeight.W_600),
            ft.Text(f.code, size=fs(40), weight=ft.FontWeight.W_900, color=fg, selectable=True),
            ft.Text(sure, size=fs(15), weight=ft.FontWeight.W_700, color=fg),
        ], spacing=0, tight=True), bgcolor=bg, border_radius=14, padding=ft.Padding.symmetric(horizontal=16,
                                                                                            vertical=10)),
            label=f"Code read {f.code}, {sure}"))
    else:
        blocks.append(sem("answer-top-code", ft.Container(ft.Column([
            ft.Text("Code read", size=fs(13), weight=ft.FontWeight.W_600),
            ft.Text("none", size=fs(28), weight=ft.FontWeight.W_800),
            ft.Text("no code on the photos", size=fs(14)),
        ], spacing=0, tight=True), bgcolor=ft.Colors.SURFACE_CONTAINER_HIGHEST, border_radius=14,
            padding=ft.Padding.symmetric(horizontal=16, vertical=10)), label="No code read"))
    cbg, cfg = theme.confidence_colors(f.confidence)
    value = getattr(f.confidence, "value", f.confidence)
    blocks.append(sem("answer-top-confidence", ft.Container(ft.Column([
        ft.Text("Overall confidence", size=fs(13), color=cfg, weight=ft.FontWeight.W_600),
        ft.Text(str(value).capitalize(), size=fs(28), weight=ft.FontWeight.W_800, color=cfg),
    ], spacing=0, tight=True), bgcolor=cbg, border_radius=14, padding=ft.Padding.symmetric(horizontal=16,
                                                                                           vertical=10)),
        label=f"Overall confidence {value}"))
    unsure = (f"Unsure because: {f.unsure}" if f.unsure
              else "Nothing flagged: every step cites the manual.")
    line = sem("answer-top-unsure", ft.Row([
        ft.Icon(ft.Icons.HELP_OUTLINE if f.unsure else ft.Icons.CHECK_CIRCLE_OUTLINE,
                color=theme.SAFETY_ICON if f.unsure else theme.OK_ICON, size=fs(22)),
        ft.Text(unsure, size=fs(16), weight=ft.FontWeight.W_600, expand=True),
    ], vertical_alignment=ft.CrossAxisAlignment.START), label=unsure)
    return sem("answer-top", ft.Column([ft.Row(blocks, wrap=True, spacing=10, run_spacing=10), line],
                                       spacing=10, tight=True))
