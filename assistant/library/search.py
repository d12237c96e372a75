"""Search: turn any user text into a safe FTS5 query (user text never reaches
FTS5 syntax), rank with BM25 weighted towards titles, section headings and
fault codes, and put exact fault-code matches first."""

from __future__ import annotations

import re

from assistant.library.codes import WORD_PREFIX, code_key, compact, looks_like_code

# column weights for bm25(passages_fts, title, section, codes, text, scope); scope only filters
WEIGHTS = (2.0, 4.0, 10.0, 1.0, 0.0)
BM25 = "bm25(passages_fts, {}, {}, {}, {}, {})".format(*WEIGHTS)
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


# a few abbreviations technicians type for words manuals spell out (general, not tied to any manual)
EXPANSIONS = {
    "ppe": ("personal", "protective", "equipment"),
    "loto": ("lockout", "tagout"),
    "vfd": ("drive", "inverter", "frequency"),
    "inverter": ("drive",),
    "estop": ("emergency", "stop"),
    "temp": ("temperature",),
    "rpm": ("speed",),
    "psi": ("pressure",),
    "amps": ("current",),
    "volts": ("voltage",),
}


# words after which a bare number in a sentence is a code ('error 22', 'the display shows 17')
_NUMBER_CONTEXT = re.compile(rf"^(?:{WORD_PREFIX}|codes?|no|nr|number|shows?|showing|displays?|displaying|reads?|"
                             r"says|flashes|flashing|blinks|blinking)$", re.I)


def code_candidates(text: str) -> list[str]:
    """Strings in the query that could be codes, as single tokens and adjacent pairs ('Err 07', 'E - 21').
    A bare number counts only when it is the query or follows a code word: the 7 of 'delivery at
    7 bar' is a quantity, and would otherwise match every code whose number is 7 (AL07, Err 7)."""
    raw = re.findall(r"[A-Za-z0-9]+", text or "")
    out: list[str] = []
    whole = " ".join((text or "").split())
    if whole and looks_like_code(whole):  # the query is a code as printed: 'error:22', 'E.S.', 'Er.07'
        out.append(whole)
    for i, token in enumerate(raw):
        bare_number = token.isdigit() and len(raw) > 1 and not (i and _NUMBER_CONTEXT.match(raw[i - 1]))
        if not bare_number and (any(ch.isdigit() for ch in token) or (token.isupper() and 2 <= len(token) <= 5)):
            out.append(token)
        if i + 1 < len(raw) and len(token) <= 4 and raw[i + 1][:1].isdigit() and len(raw[i + 1]) <= 6:
            out.append(token + raw[i + 1])
    return out[:16]


class Planner:
    """Plans the FTS5 expression from document frequencies so that latency stays flat as the
    library grows: rare terms are OR-ed (full recall), terms that occur in a large share of
    passages are AND-ed together (they add little to BM25 but cost a score per matching row).

    Stems come from FTS5's own tokenizer (an in-memory FTS5 table), frequencies from an
    fts5vocab table over the index; both are cached until the index changes."""

    COMMON_MIN = 1500  # passages
    COMMON_SHARE = 0.03  # of all passages
    OR_BUDGET = 6000  # postings an all-OR query may touch

    def __init__(self) -> None:
        import sqlite3
        import threading

        self._mem = sqlite3.connect(":memory:", check_same_thread=False)
        self._mem.execute("CREATE VIRTUAL TABLE q USING fts5(x, tokenize = 'porter unicode61 remove_diacritics 2')")
        self._mem.execute("CREATE VIRTUAL TABLE qi USING fts5vocab(q, instance)")
        self._lock = threading.Lock()
        self._df: dict[str, int] = {}
        self._total: int | None = None

    def invalidate(self) -> None:
        with self._lock:
            self._df.clear()
            self._total = None

    def stems(self, words: list[str]) -> list[str]:
        with self._lock:
            self._mem.execute("DELETE FROM q")
            self._mem.executemany("INSERT INTO q(rowid, x) VALUES (?, ?)", list(enumerate(words)))
            found = dict(self._mem.execute("SELECT doc, term FROM qi").fetchall())
        return [found.get(i, w) for i, w in enumerate(words)]

    def frequencies(self, conn, stems: list[str]) -> tuple[dict[str, int], int]:
        with self._lock:
            missing = [s for s in set(stems) if s not in self._df]
            total = self._total
        if missing:
            found = {}
            for stem in missing:  # one equality lookup per term: fts5vocab only indexes `term = ?`
                row = conn.execute("SELECT doc FROM passages_vocab WHERE term = ?", (stem,)).fetchone()
                found[stem] = row[0] if row else 0
            with self._lock:
                for s in missing:
                    self._df[s] = found.get(s, 0)
        if total is None:
            total = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
            with self._lock:
                self._total = total
        with self._lock:
            return {s: self._df.get(s, 0) for s in stems}, total

    def plans(self, conn, text: str, codes: list[str] = ()) -> list[str]:
        """MATCH expressions to try in order (the next one only when too few rows came back)."""
        words = terms(text)
        words += [x for w in words for x in EXPANSIONS.get(w, ()) if x not in words]
        code_parts = []
        for code in codes:
            for variant in {compact(code), code_key(code)}:
                code_parts.append('codes : "{}"'.format(variant.lower().replace('"', '""')))
        if not words:
            return [" OR ".join(dict.fromkeys(code_parts))] if code_parts else []
        quoted = {w: '"{}"'.format(w.replace('"', '""')) for w in words}
        stems = self.stems(words)
        df, total = self.frequencies(conn, stems)
        freq = {w: df.get(s, 0) for w, s in zip(words, stems)}
        full = " OR ".join(dict.fromkeys([quoted[w] for w in words] + code_parts))
        if sum(freq.values()) <= self.OR_BUDGET:
            return [full]
        limit = max(self.COMMON_MIN, self.COMMON_SHARE * total)
        rare = [quoted[w] for w in words if freq[w] <= limit] + code_parts
        common = sorted((w for w in words if freq[w] > limit), key=lambda w: freq[w])
        together = " AND ".join(quoted[w] for w in common)
        if rare:
            # rows are found and BM25-scored by the rare terms; `rerank` credits the common ones
            return [" OR ".join(rare), f"({together})"]
        # only common terms: headings first (cheap, and where a title-like query belongs), then the body
        plans = [f"{{title section}} : ({together})", f"({together})"]
        if len(common) > 2:
            head = common[:3]
            plans.append(" OR ".join(f"({quoted[a]} AND {quoted[b]})" for i, a in enumerate(head) for b in head[i + 1:]))
        return plans


def _token(prefix: str, value: str) -> str:
    import hashlib

    return prefix + hashlib.sha1(value.encode()).hexdigest()[:12]


def scope_tokens(doc_id: str, equipment_ids, kind: str) -> str:
    """The scope column: opaque tokens for the document, its equipment and the passage kind,
    so filters are FTS5 doclist intersections instead of a join per matching row."""
    return " ".join([_token("d", doc_id), *(_token("e", e) for e in equipment_ids), "k" + kind.replace("_", "")])


def scope_filter(doc_id: str | None, equipment_id: str | None, kinds) -> str:
    parts = []
    if doc_id:
        parts.append(f'scope : "{_token("d", doc_id)}"')
    if equipment_id:
        parts.append(f'scope : "{_token("e", equipment_id)}"')
    if kinds:
        parts.append("scope : (%s)" % " OR ".join(f'"k{k.replace("_", "")}"' for k in kinds))
    return " AND ".join(parts)


def fts_query(text: str, codes: list[str] = ()) -> str | None:
    """An FTS5 MATCH expression: every term quoted (so operators, quotes, colons,
    parentheses or NEAR in user text are plain words) and OR-ed; BM25 rewards
    passages matching more of them. Known codes also search the codes column."""
    words = terms(text)
    words += [x for w in words for x in EXPANSIONS.get(w, ()) if x not in words]
    parts = ['"{}"'.format(t.replace('"', '""')) for t in words]
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
    wanted = {_stem(t) for t in q}
    scored = []
    for r in rows:
        score = (r["score"] / top if top > 0 else 0.0) + heading_bonus(q, r["section"])
        if wanted:
            present = {_stem(t) for t in set(_TOKEN.findall(r["text"].lower()))} & wanted
            score += 0.15 * len(present) / len(wanted)  # query words BM25 was not asked about still count
        scored.append((score, r))
    scored.sort(key=lambda pair: -pair[0])
    return scored


def snippet(text: str, query: str, words: int = 32) -> str:
    """The window of `text` (about `words` words) with the most query terms, terms marked [[like this]]."""
    wanted = {_stem(t) for t in terms(query)}
    tokens = text.split()
    if not tokens:
        return ""
    hits = [any(_stem(w) in wanted for w in _TOKEN.findall(tok.lower())) for tok in tokens]
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
