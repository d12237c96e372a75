"""Steps that would defeat safety: recognised whoever wrote them (a model, a
manual passage, a work instruction) and in whichever source language.

A step is dangerous when its words or the words it cites tell the technician to
- bypass, defeat, jumper, bridge, override, disable or remove an interlock,
  guard, safety relay / switch / circuit, emergency stop, lockout or another
  protective device;
- work on live, energised, running or pressurised equipment without isolation
  (or skip the lockout / isolation);
- exceed a rated or maximum limit.
A negated instruction ("never bypass the interlock", "do not work on live
parts") is the manual's own warning, not a dangerous step.

`danger_in(text)` returns the plain reason ("defeats a safety device: bypass
... interlock") or "". Patterns cover English, German, French, Spanish, Dutch
and Italian; the checks are local and deterministic.
"""

from __future__ import annotations

import re

_F = re.I | re.U

# verbs that defeat a protective function
_DEFEAT = (
    r"by-?pass\w*|defeat\w*|jumper\w*|bridg(?:e|es|ed|ing)|overrid\w*|disabl\w*|deactivat\w*|short(?:s|ing|ed)?\s+out|"
    r"tape\s+(?:down|over)|tie\s+(?:down|back)|wedg(?:e|es|ed|ing)\s+(?:open|shut)|cheat\w*|"
    r"überbrück\w*|ueberbrueck\w*|umgeh(?:en|t|e)|deaktivier\w*|außer\s+kraft|ausser\s+kraft|"
    r"ponter|pontez|shunter|shuntez|contourn\w*|désactiv\w*|desactiv\w*|neutralis(?:er|ez)|"
    r"puente\w*|anul\w*|elud\w*|deshabilit\w*|inhabilit\w*|"
    r"overbrug\w*|omzeil\w*|uitschakel\w*|buiten\s+werking|"
    r"ponticell\w*|bypassa\w*|esclud\w*|disattiv\w*|disabilit\w*"
)
# protective devices and functions
_DEVICE = (
    r"interlock\w*|guard\w*|safety\s+(?:relay|switch|circuit|device|function|chain|contact|valve|cut-?out)\w*|"
    r"e-?stop|emergency[\s-]+stop\w*|lock-?out|lockout|protective\s+(?:device|earth|cover|function)\w*|"
    r"protection(?:\s+(?:device|circuit|relay))?|door\s+(?:switch|contact)\w*|limit\s+switch\w*|pressure\s+switch\w*|"
    r"(?:pressure\s+)?relief\s+valve\w*|overload\s+(?:relay|protection)\w*|thermal\s+(?:cut-?out|protection|switch)\w*|"
    r"light\s+curtain\w*|two-hand\s+control\w*|sto\b|safe\s+torque\s+off|"
    r"verriegelung\w*|schutz\w*|not-?aus\w*|not-?halt\w*|sicherheits\w*|türkontakt\w*|endschalter\w*|"
    r"verrouillage\w*|interverrouillage\w*|protecteur\w*|protection\w*|arrêt\s+d'urgence|arret\s+d'urgence|"
    r"relais\s+de\s+sécurité|dispositif\s+de\s+(?:protection|sécurité)|consignation|"
    r"enclavamiento\w*|protecci[oó]n\w*|resguardo\w*|parada\s+de\s+emergencia|rel[eé]\s+de\s+seguridad|"
    r"dispositivo\s+de\s+(?:protecci[oó]n|seguridad)|"
    r"vergrendeling\w*|beveiliging\w*|noodstop\w*|veiligheids\w*|afscherming\w*|"
    r"interblocc\w*|protezion\w*|arresto\s+di\s+emergenza|rel[eè]\s+di\s+sicurezza|riparo\w*"
)
_DEFEAT_DEVICE = re.compile(
    rf"(?:\b(?:{_DEFEAT})\b[^.;:!?\n]{{0,60}}?\b\w*?(?:{_DEVICE}))|(?:\b\w*?(?:{_DEVICE})\b[^.;:!?\n]{{0,40}}?\b(?:{_DEFEAT})\b)",
    _F)
# a removed guard or an open cover while running
_RUN_OPEN = re.compile(
    r"\b(?:run|start|operate|restart)\w*\b[^.;:!?\n]{0,50}\b(?:with|while)\b[^.;:!?\n]{0,20}\b(?:cover|door|guard|panel|housing)s?\b"
    r"[^.;:!?\n]{0,10}\b(?:open|off|removed)\b|"
    r"\bmit\s+offene[rm]?\s+(?:tür|haube|abdeckung|schutz\w*)|"
    r"\bcapot\s+ouvert|porte\s+ouverte|"
    r"\bcon\s+la\s+(?:tapa|puerta|cubierta)\s+abierta|"
    r"\bmet\s+(?:open|geopende)\s+(?:deur|kap|afdekking)|"
    r"\bcon\s+(?:il\s+)?(?:coperchio|carter|sportello)\s+apert\w*",
    _F)


def _near(verbs: str, state: str) -> str:
    """A work verb and a live / pressurised state in one clause, in either order."""
    return (rf"(?:\b(?:{verbs})\b[^.;:!?\n]{{0,40}}?\b(?:{state})\b|\b(?:{state})\b[^.;:!?\n]{{0,40}}?\b(?:{verbs})\b)")


_LIVE_FR = _near(r'travaill\w*|ouvr\w*|démont\w*|remplac\w*|toucher|intervenir|desserr\w*', r'sous\s+(?:tension|pression)')
_LIVE_ES = _near(r'trabaj\w*|abr[ai]\w*|desmont\w*|reemplaz\w*|tocar|aflojar', r'(?:en|bajo)\s+(?:tensi[oó]n|presi[oó]n)')
_LIVE_NL = _near(r'werk\w*|open\w*|losdraai\w*|vervang\w*|aanra\w*|demonte\w*', r'onder\s+(?:spanning|druk)')
_LIVE_IT = _near(r'lavor\w*|apr[ia]\w*|smont\w*|sostitu\w*|toccare|allentare', r'sotto\s+(?:tensione|pressione)')

# live / pressurised work, or isolation skipped
_LIVE = re.compile(
    r"\bwithout\s+(?:first\s+)?(?:isolat\w*|lock\w*(?:\s+out)?|de-?energi[sz]\w*|depressuri[sz]\w*|switching\s+off|"
    r"disconnecting|turning\s+off|venting|releasing\s+the\s+pressure|tagging)|"
    r"\b(?:while|when)\s+(?:the\s+\w+\s+)?(?:is\s+|are\s+|still\s+)*(?:live|(?<!-)(?<!de)energi[sz]ed|under\s+pressure|pressuri[sz]ed)\b|"
    r"\b(?:work|working|reach|touch|open|loosen|remove|replace|service)\w*\b[^.;:!?\n]{0,40}\b(?:live|(?<!-)(?<!de)energi[sz]ed|under\s+pressure|(?<!de)pressuri[sz]ed|under\s+voltage)\b|"
    r"\b(?:skip|no\s+need\s+to|don't\s+bother\s+to|needn't)\s+(?:the\s+)?(?:lock\w*|isolat\w*|de-?energi[sz]\w*|tag\w*|depressuri[sz]\w*)|"
    r"\bunter\s+(?:spannung|druck)\s+(?:arbeit\w*|öffn\w*|lös\w*|wechsel\w*|tausch\w*)|"
    r"\b(?:arbeit\w*|öffn\w*|lös\w*)\b[^.;:!?\n]{0,30}\bunter\s+(?:spannung|druck)\b|ohne\s+(?:freischalt\w*|abschalt\w*|druckentlast\w*)|"
    + _LIVE_FR + r"|"
    r"sans\s+(?:consign\w*|couper|isoler|mise\s+hors\s+tension)|"
    + _LIVE_ES + r"|"
    r"sin\s+(?:aislar|desconectar|bloquear|despresuriz\w*)|"
    + _LIVE_NL + r"|"
    r"zonder\s+(?:vergrendel\w*|spanningsloos|uitschakel\w*|af\s+te\s+schakelen)|"
    + _LIVE_IT + r"|"
    r"senza\s+(?:sezionare|isolare|scollegare|togliere\s+tensione)",
    _F)
# exceeding a rated limit
_FILLER = r"(?:(?:then|now|simply|just|you\s+(?:can|may|should)|it\s+is\s+(?:ok|fine|safe)\s+to|feel\s+free\s+to)\s+)*"
_EXCEED = re.compile(
    rf"(?:^|[,.;:!?\n]\s*){_FILLER}(?:exceed|go\s+(?:above|over|beyond)|run\s+(?:it\s+)?(?:above|over|beyond)|"
    r"set\s+(?:\w+\s+){0,4}?(?:above|over|beyond)|increase\b[^.;:!?\n,]{0,30}\b(?:above|over|beyond|past))\s+(?:the\s+)?"
    r"(?:rated|rating|maximum|max\.?|nameplate|permitted|permissible|allowed|specified|design|limit)\b|"
    r"\b(?:nennwert|nennstrom|nenndruck|maximal\w*|grenzwert)\w*\s+überschreiten\b|\büberschreiten\s+sie\b|"
    r"\bdépass(?:er|ez)\s+(?:la\s+|le\s+)?(?:valeur\s+)?(?:nominale?|maximale?|limite)|"
    r"\bexced(?:er|a|an)\s+(?:el\s+|la\s+)?(?:valor\s+)?(?:nominal|m[aá]xim[oa]|l[ií]mite)|"
    r"\boverschrijd(?:en)?\s+(?:de\s+|het\s+)?(?:nominale?|maximale?|grens)|"
    r"\bsuper(?:are|ate)\s+(?:il\s+|la\s+)?(?:valore\s+)?(?:nominale|massim[oa]|limite)",
    _F)
_NEGATION = re.compile(
    r"\b(?:never|not|no|don't|do\s+not|must\s+not|mustn't|cannot|can't|prohibited|forbidden|"
    r"nie(?:mals)?|nicht|kein\w*|verboten|"
    r"jamais|ne|n'|pas|interdit\w*|"
    r"nunca|jam[aá]s|prohibido|"
    r"nooit|niet|geen|verboden|"
    r"mai|vietato)\b",
    _F)
_CLAUSE = re.compile(r"[.;!?\n]|\s-\s|:\s")

RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("it defeats a safety device", _DEFEAT_DEVICE),
    ("it runs the machine with a guard or cover open", _RUN_OPEN),
    ("it works on live or pressurised equipment without isolation", _LIVE),
    ("it exceeds a rated limit", _EXCEED),
)


def _negated(text: str, start: int, end: int) -> bool:
    """Is the match inside a clause that forbids it ("never ...", "... is prohibited")?"""
    clause_start = 0
    for m in _CLAUSE.finditer(text, 0, start):
        clause_start = m.end()
    nxt = _CLAUSE.search(text, end)
    clause_end = nxt.start() if nxt else len(text)
    return bool(_NEGATION.search(text[clause_start:clause_end]))


def danger_in(text: str) -> str:
    """Why `text` instructs something that defeats safety ("" when it does not)."""
    if not text:
        return ""
    for reason, pattern in RULES:
        for m in pattern.finditer(text):
            if not _negated(text, m.start(), m.end()):
                return f"{reason} (“{' '.join(m.group(0).split())}”)"
    return ""


def danger_message(index: int, reason: str) -> str:
    return (f"DANGER: do not follow step {index} as written: {reason}. Never defeat interlocks, guards, emergency "
            "stops or protective devices, never work on live or pressurised equipment without isolation, and never "
            "exceed rated limits. Stop and ask your supervisor or the manufacturer.")
