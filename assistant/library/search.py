"""Search: turn any user text into a safe FTS5 query (user text never reaches
FTS5 syntax), rank with BM25 weighted towards titles, section headings and
fault codes, and put exact fault-code matches first."""

from __future__ import annotations

import re

from assistant.library.codes import code_key, compact

# column weights for bm25(passages_fts, title, section, codes, text)
WEIGHTS = (2.0, 4.0, 10.0, 1.0)
BM25 = "bm25(passages_fts, {}, {}, {}, {})".format(*WEIGHTS)
MAX_TERMS = 32

_TOKEN = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between both but
by can could did do does doing down during each few for from further had has have having he her here hers him his
how i if in into is it its itself just me more most my no nor not now of off on once only or other our out over own
same she should so some such than that the their them then there these they this those through to too under until
up very was we were what when where which while who whom why will with would you your please tell show explain
mean means meaning display displays displayed shows showing says say happen happens
""".split())


def terms(text: str) -> list[str]:
    """Lower-case word tokens of the user's text, stop words dropped (all kept if nothing is left)."""
    tokens = [t.lower() for t in _TOKEN.findall(text or "")]
    kept = [t for t in tokens if t not in STOPWORDS]
    seen: dict[str, None] = {}
    for t in kept or tokens:
        seen.setdefault(t, None)
    return list(seen)[:MAX_TERMS]


def code_candidates(text: str) -> list[str]:
    """Strings in the query that could be codes, as single tokens and adjacent pairs ('Err 07', 'E - 21')."""
    raw = re.findall(r"[A-Za-z0-9]+", text or "")
    out: list[str] = []
    for i, token in enumerate(raw):
        if any(ch.isdigit() for ch in token) or (token.isupper() and 2 <= len(token) <= 5):
            out.append(token)
        if i + 1 < len(raw) and len(token) <= 4 and raw[i + 1][:1].isdigit() and len(raw[i + 1]) <= 6:
            out.append(token + raw[i + 1])
    return out[:16]


def fts_query(text: str, codes: list[str] = ()) -> str | None:
    """An FTS5 MATCH expression: every term quoted (so operators, quotes, colons,
    parentheses or NEAR in user text are plain words) and OR-ed; BM25 rewards
    passages matching more of them. Known codes also search the codes column."""
    parts = ['"{}"'.format(t.replace('"', '""')) for t in terms(text)]
    for code in codes:
        for variant in {compact(code), code_key(code)}:
            parts.append('codes : "{}"'.format(variant.lower().replace('"', '""')))
    if not parts:
        return None
    return " OR ".join(dict.fromkeys(parts))


def codes_column(codes: list[str]) -> str:
    """What the codes column holds for a passage: each code compact and without leading zeros."""
    values: dict[str, None] = {}
    for code in codes:
        values.setdefault(compact(code), None)
        values.setdefault(code_key(code), None)
    return " ".join(values)


def _stem(token: str) -> str:
    return token[:5] if len(token) > 5 else token


def heading_bonus(query_terms: list[str], section: str) -> float:
    """Extra score for passages whose heading path names what was asked. FTS5's BM25
    normalises by the whole row's length, so a long procedure under the perfect heading
    would otherwise lose to a short table under a sub-heading."""
    if not query_terms or not section:
        return 0.0
    wanted = {_stem(t) for t in query_terms}
    path = {_stem(t.lower()) for t in _TOKEN.findall(section)}
    leaf = {_stem(t.lower()) for t in _TOKEN.findall(section.split(" > ")[-1])}
    return 0.35 * len(wanted & path) / len(wanted) + 0.3 * len(wanted & leaf) / len(wanted)


def rerank(rows: list, query: str) -> list[tuple[float, object]]:
    """(score, row) best first: BM25 scaled to 0..1 within the result set plus the heading bonus."""
    if not rows:
        return []
    top = max(r["score"] for r in rows) or 1.0
    q = terms(query)
    scored = [((r["score"] / top if top > 0 else 0.0) + heading_bonus(q, r["section"]), r) for r in rows]
    scored.sort(key=lambda pair: -pair[0])
    return scored


def snippet(text: str, query: str, words: int = 32) -> str:
    """The window of `text` (about `words` words) with the most query terms, terms marked [[like this]]."""
    wanted = {_stem(t) for t in terms(query)}
    tokens = text.split()
    if not tokens:
        return ""
    hits = [bool(wanted & {_stem(w.lower()) for w in _TOKEN.findall(tok)}) for tok in tokens]
    best, best_at = -1, 0
    running = sum(hits[:words])
    for i in range(0, max(len(tokens) - words, 0) + 1):
        if i:
            running += (hits[i + words - 1] if i + words - 1 < len(hits) else 0) - hits[i - 1]
        if running > best:
            best, best_at = running, i
    start = max(0, best_at - 2) if best > 0 else 0
    window = tokens[start:start + words]
    marked = []
    for tok, hit in zip(window, hits[start:start + words]):
        if hit:
            m = re.match(r"^(\W*)(.*?)(\W*)$", tok)
            lead, core, tail = m.groups() if m else ("", tok, "")
            marked.append(f"{lead}[[{core}]]{tail}" if core else tok)
        else:
            marked.append(tok)
    return ("… " if start > 0 else "") + " ".join(marked) + (" …" if start + words < len(tokens) else "")
