"""The manual library: equipment catalog, document ingest (PDF incl. scanned,
Markdown, HTML, text, YAML/JSON work instructions), FTS5/BM25 search with an
exact fault-code table, revision linking, the offline cache (originals and
page images) and remote feed sync. `Library` is the façade; everything it
stores lives under its root (index.sqlite, cache/)."""

from __future__ import annotations

import hashlib
import io
import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from rapidfuzz import fuzz

from assistant.domain import (Document, DocumentFormat, DocumentKind, Equipment, FaultCode, Passage, PassageKind,
                              SearchHit)
from assistant.errors import MalformedFile, UnknownDocument, UnknownEquipment
from assistant.library import catalog as _catalog
from assistant.library import search as _search
from assistant.library.cache import LibraryCache, Namespaced, sha256_file
from assistant.library.codes import code_key, compact, printed
from assistant.library.ingest import check_file, read_document
from assistant.library.ingest.base import ParsedDoc
from assistant.library.models import OutlineEntry, PageInfo, SyncFailure, SyncProgress, SyncReport
from assistant.library.store import Store

log = logging.getLogger(__name__)

__all__ = ["Library", "OutlineEntry", "PageInfo", "SyncProgress", "SyncReport", "SyncFailure"]

_REVISION_WORDS = re.compile(r"\b(?:rev(?:ision)?|version|ver|edition|ed|issue)\.?\s*[\w.\-]+|\bv\d[\w.\-]*|"
                             r"\b(?:19|20)\d\d(?:[-/.]\d\d){0,2}\b|\(\s*\)", re.I)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48] or "document"


def revision_key(revision: str) -> tuple:
    """Natural order of revision labels: 'B' < 'C', '2' < '10', 'rev 1.2' < 'rev 1.10'."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.findall(r"\d+|[a-z]+", (revision or "").lower()))


def _family_title(title: str) -> str:
    return " ".join(_REVISION_WORDS.sub(" ", title.lower()).split())


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


class Library:
    """Everything about manuals. Thread-safe: one SQLite connection behind a lock."""

    def __init__(self, root: Path, *, cache_limit_bytes: int = 2 * 1024**3):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.store = Store(self.root / "index.sqlite")
        self.cache = LibraryCache(self.root / "cache", cache_limit_bytes)
        self._ingest_lock = threading.RLock()
        self._planner = _search.Planner()
        if self.store.fts_rebuild:
            self._rebuild_fts()

    def _rebuild_fts(self) -> None:
        """Re-create every FTS row from the passages (after a schema change)."""
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM passages_fts")
            for doc in conn.execute("SELECT id, title FROM documents").fetchall():
                self._reindex(conn, doc["id"])
        self._planner.invalidate()

    def _reindex(self, conn, doc_id: str) -> None:
        """Rewrite the FTS rows of one document (title, equipment links or scope changed)."""
        title = conn.execute("SELECT title FROM documents WHERE id=?", (doc_id,)).fetchone()[0]
        equipment = [r[0] for r in conn.execute("SELECT equipment_id FROM doc_equipment WHERE doc_id=?", (doc_id,))]
        faults = {r[0]: r[1] for r in conn.execute("SELECT passage_id, title FROM fault_codes WHERE doc_id=?",
                                                    (doc_id,))}
        rows = conn.execute("SELECT rowid, id, section, kind, text, codes FROM passages WHERE doc_id=?",
                            (doc_id,)).fetchall()
        conn.executemany("DELETE FROM passages_fts WHERE rowid=?", [(r["rowid"],) for r in rows])
        conn.executemany(
            "INSERT INTO passages_fts(rowid, title, section, codes, text, scope) VALUES (?,?,?,?,?,?)",
            [(r["rowid"], f"{title} {faults.get(r['id'], '')}".strip(), r["section"],
              _search.codes_column(r["codes"].split()), r["text"], _search.scope_tokens(doc_id, equipment, r["kind"]))
             for r in rows])

    def close(self) -> None:
        self.store.close()
        self.cache.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ catalog

    def seed(self, catalog_file: Path) -> list[Document]:
        """Load a catalog.yaml (equipment + documents relative to its folder). Every readable
        document is added; if some fail, MalformedFile names them after the rest are in."""
        catalog_file = Path(catalog_file)
        items, entries = _catalog.read_catalog_file(catalog_file)
        for item in items:
            self.upsert_equipment(item)
        docs, errors = [], []
        for entry in entries:
            try:
                kind = DocumentKind(entry["kind"]) if entry.get("kind") else None
                docs.append(self.add(catalog_file.parent / entry["path"], equipment_ids=entry.get("equipment") or (),
                                     title=entry.get("title"), kind=kind, revision=str(entry.get("revision") or "")))
            except (MalformedFile, UnknownEquipment, ValueError) as err:
                errors.append(str(err))
        if errors:
            raise MalformedFile(f"{len(errors)} document(s) in {catalog_file.name} could not be added: "
                                + "; ".join(errors))
        return docs

    def upsert_equipment(self, equipment: Equipment) -> Equipment:
        data = equipment.model_copy(update={"document_ids": []})
        with self.store.transaction() as conn:
            conn.execute("INSERT INTO equipment(id, data, name, model, manufacturer) VALUES (?,?,?,?,?) "
                         "ON CONFLICT(id) DO UPDATE SET data=excluded.data, name=excluded.name, model=excluded.model, "
                         "manufacturer=excluded.manufacturer",
                         (equipment.id, data.model_dump_json(), equipment.name, equipment.model,
                          equipment.manufacturer))
            conn.execute("DELETE FROM asset_tags WHERE equipment_id=?", (equipment.id,))
            for tag in equipment.asset_tags:
                key = _catalog.norm_tag(tag)
                if key:
                    conn.execute("INSERT OR REPLACE INTO asset_tags(tag, equipment_id) VALUES (?,?)", (key, equipment.id))
        return self.get_equipment(equipment.id)

    def _equipment_from_row(self, row) -> Equipment:
        item = Equipment.model_validate_json(row["data"])
        ids = [r[0] for r in self.store.query(
            "SELECT de.doc_id FROM doc_equipment de JOIN documents d ON d.id=de.doc_id WHERE de.equipment_id=? "
            "ORDER BY d.title", (item.id,))]
        return item.model_copy(update={"document_ids": ids})

    def equipment(self) -> list[Equipment]:
        return _catalog.list_equipment(self.store)

    def get_equipment(self, equipment_id: str) -> Equipment:
        row = self.store.one("SELECT data FROM equipment WHERE id=?", (equipment_id,))
        if row is None:
            raise UnknownEquipment(f"There is no equipment '{equipment_id}' in the catalog.")
        return self._equipment_from_row(row)

    def find_equipment(self, query: str, limit: int = 10) -> list[Equipment]:
        return _catalog.search_equipment(query, self.equipment(), limit)

    def equipment_for_tag(self, tag: str) -> Equipment | None:
        tags = {r["tag"]: r["equipment_id"] for r in self.store.query("SELECT tag, equipment_id FROM asset_tags")}
        equipment_id = _catalog.tag_matches(tag, tags)
        return self.get_equipment(equipment_id) if equipment_id else None

    def match_model(self, text: str) -> list[tuple[Equipment, float]]:
        return _catalog.match_models(text, self.equipment())

    # ------------------------------------------------------------------ documents

    def add(self, source: Path, *, equipment_ids: Sequence[str] = (), title: str | None = None,
            kind: DocumentKind | None = None, revision: str = "", _source_key: str | None = None,
            _source_label: str | None = None) -> Document:
        """Ingest one file. Unchanged (same sha256) -> nothing is re-read; changed -> its passages
        are replaced in one transaction; unreadable -> MalformedFile and the library is untouched."""
        source = Path(source)
        for equipment_id in equipment_ids:
            self.get_equipment(equipment_id)
        check_file(source)
        sha = sha256_file(source)
        key = _source_key or str(source.resolve())
        label = _source_label or str(source)
        with self._ingest_lock:
            existing = self._doc_row("source_key=?", key)
            if existing is None and _source_key is None:
                existing = self._doc_row("sha256=?", sha)  # the same file added from another path
            if existing is not None and existing["sha256"] == sha:
                self._link(existing["id"], equipment_ids, title, kind, revision)
                return self.document(existing["id"])
            parsed = read_document(source, ocr_cache=Namespaced(self.cache, f"ocr:{sha}"))
            original = self.cache.store_original(source, sha, source.suffix or "." + parsed.format.value)
            previous = self._doc_row("source_key=?", key)
            doc_id = previous["id"] if previous is not None else self._new_doc_id(Path(label).stem or title or parsed.title)
            doc = self._write(doc_id, key, label, sha, original, source.stat().st_size, parsed, equipment_ids, title,
                              kind, revision)
            if previous is not None and previous["original"] != str(original):
                if self.store.one("SELECT 1 FROM documents WHERE original=?", (previous["original"],)) is None:
                    self.cache.drop_original(Path(previous["original"]))
            return doc

    def _doc_row(self, where: str, value: str):
        return self.store.one(f"SELECT * FROM documents WHERE {where}", (value,))

    def _new_doc_id(self, title: str) -> str:
        base = _slug(title)
        candidate, n = base, 2
        while self.store.one("SELECT 1 FROM documents WHERE id=?", (candidate,)) is not None:
            candidate, n = f"{base}-{n}", n + 1
        return candidate

    def add_links(self, doc_id: str, equipment_ids: Sequence[str], title: str | None = None,
                  kind: DocumentKind | None = None, revision: str = "") -> None:
        """Link a document to equipment (ids need not be in the catalog yet) and update its metadata."""
        self._link(doc_id, equipment_ids, title, kind, revision)

    def _link(self, doc_id: str, equipment_ids: Sequence[str], title: str | None, kind: DocumentKind | None,
              revision: str) -> None:
        with self.store.transaction() as conn:
            before = conn.total_changes
            for equipment_id in equipment_ids:
                conn.execute("INSERT OR IGNORE INTO doc_equipment(doc_id, equipment_id) VALUES (?,?)",
                             (doc_id, equipment_id))
            if title:
                conn.execute("UPDATE documents SET title=? WHERE id=?", (title, doc_id))
            if kind:
                conn.execute("UPDATE documents SET kind=? WHERE id=?", (DocumentKind(kind).value, doc_id))
            if revision:
                conn.execute("UPDATE documents SET revision=? WHERE id=?", (revision, doc_id))
            if conn.total_changes != before:
                self._reindex(conn, doc_id)

    def _write(self, doc_id: str, key: str, label: str, sha: str, original: Path, size: int, parsed: ParsedDoc,
               equipment_ids: Sequence[str], title: str | None, kind: DocumentKind | None, revision: str) -> Document:
        meta = parsed.meta or {}
        equipment = list(dict.fromkeys([*equipment_ids, *(meta.get("equipment") or [])]))
        title = title or parsed.title or Path(label).stem.replace("_", " ").replace("-", " ")
        revision = revision or str(meta.get("revision") or "")
        if kind is None:
            kind = DocumentKind.WORK_INSTRUCTION if parsed.format in (DocumentFormat.YAML, DocumentFormat.JSON) \
                else DocumentKind.MANUAL
        family = self._family(doc_id, title, equipment, sha)
        passages = []
        seen: set[str] = set()
        for seq, block in enumerate(parsed.blocks):
            section = " > ".join(block.section)
            digest = hashlib.sha1(f"{block.kind}|{section}|{block.page}|{block.text}".encode()).hexdigest()[:10]
            pid = f"{doc_id}:{digest}"
            n = 2
            while pid in seen:
                pid, n = f"{doc_id}:{digest}-{n}", n + 1
            seen.add(pid)
            passages.append((pid, seq, block, section))
        with self.store.transaction() as conn:
            old = [r[0] for r in conn.execute("SELECT rowid FROM passages WHERE doc_id=?", (doc_id,))]
            conn.executemany("DELETE FROM passages_fts WHERE rowid=?", [(r,) for r in old])
            for table in ("passages", "fault_codes", "outline", "pages", "texts", "doc_equipment"):
                conn.execute(f"DELETE FROM {table} WHERE doc_id=?", (doc_id,))
            conn.execute(
                "INSERT INTO documents(id, title, format, kind, source_key, source, sha256, revision, page_count, "
                "passage_count, ingested_at, family, original, size) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT(id) DO UPDATE SET title=excluded.title, format=excluded.format, kind=excluded.kind, "
                "source=excluded.source, sha256=excluded.sha256, revision=excluded.revision, "
                "page_count=excluded.page_count, passage_count=excluded.passage_count, "
                "ingested_at=excluded.ingested_at, family=excluded.family, original=excluded.original, size=excluded.size",
                (doc_id, title, parsed.format.value, DocumentKind(kind).value, key, label, sha, revision,
                 parsed.page_count, len(passages), _now(), family, str(original), size))
            conn.executemany("INSERT INTO doc_equipment(doc_id, equipment_id) VALUES (?,?)",
                             [(doc_id, e) for e in equipment])
            for pid, seq, block, section in passages:
                codes = _search.codes_column(list(block.codes))
                box = block.box or (None, None, None, None)
                cur = conn.execute(
                    "INSERT INTO passages(id, doc_id, seq, page, section, kind, text, start, end, codes, x0, top, x1, "
                    "bottom) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (pid, doc_id, seq, block.page, section, block.kind.value, block.text, block.start, block.end,
                     " ".join(block.codes), *box))
                fault_title = block.fault.title if block.fault else ""
                conn.execute("INSERT INTO passages_fts(rowid, title, section, codes, text, scope) VALUES (?,?,?,?,?,?)",
                             (cur.lastrowid, f"{title} {fault_title}".strip(), section, codes, block.text,
                              _search.scope_tokens(doc_id, equipment, block.kind.value)))
                if block.fault is not None:
                    f = block.fault
                    conn.execute(
                        "INSERT INTO fault_codes(doc_id, passage_id, code, compact, key, title, cause, remedy, page, "
                        "section, seq, description, confidence) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        (doc_id, pid, printed(f.code), compact(f.code), code_key(f.code), f.title, f.cause, f.remedy,
                         block.page, section, seq, f.description,
                         f.conf if f.conf is not None else parsed.ocr_pages.get(block.page or 0)))
            first_passage: dict[str, str] = {}
            for pid, _, block, section in passages:
                first_passage.setdefault(section, pid)
            for seq, heading in enumerate(parsed.headings):
                path = " > ".join(heading.section)
                pid = first_passage.get(path) or next(
                    (p for s, p in first_passage.items() if s.startswith(path + " > ")), None)
                conn.execute("INSERT INTO outline(doc_id, seq, section, level, page, passage_id) VALUES (?,?,?,?,?,?)",
                             (doc_id, seq, path, heading.level, heading.page, pid))
            paged = parsed.page_count is not None
            conn.executemany("INSERT INTO texts(doc_id, page, text) VALUES (?,?,?)",
                             [(doc_id, n if paged else 0, t) for n, t in enumerate(parsed.page_texts, start=1)])
            for number, text in enumerate(parsed.page_texts, start=1):
                if not paged:
                    break
                size = parsed.page_sizes.get(number, (None, None))
                conn.execute("INSERT INTO pages(doc_id, page, chars, ocr, confidence, width, height) "
                             "VALUES (?,?,?,?,?,?,?)",
                             (doc_id, number, len(text), int(number in parsed.ocr_pages),
                              parsed.ocr_pages.get(number), *size))
        self._planner.invalidate()
        return self.document(doc_id)

    def _family(self, doc_id: str, title: str, equipment: Sequence[str], sha: str) -> str:
        """Revisions of one manual share a family: same equipment (or none) and the same title
        once revision / version / date words are removed."""
        mine = _family_title(title)
        for row in self.store.query("SELECT id, title, family, sha256 FROM documents WHERE id != ?", (doc_id,)):
            theirs = _family_title(row["title"])
            if not mine or not theirs or row["sha256"] == sha:
                continue
            their_eq = {r[0] for r in self.store.query("SELECT equipment_id FROM doc_equipment WHERE doc_id=?",
                                                        (row["id"],))}
            if set(equipment) != their_eq and not (set(equipment) & their_eq):
                continue
            if fuzz.token_sort_ratio(mine, theirs) >= 92:
                return row["family"]
        return doc_id

    def _document(self, row) -> Document:
        equipment = [r[0] for r in self.store.query("SELECT equipment_id FROM doc_equipment WHERE doc_id=? "
                                                    "ORDER BY equipment_id", (row["id"],))]
        return Document(id=row["id"], title=row["title"], format=DocumentFormat(row["format"]),
                        kind=DocumentKind(row["kind"]), equipment_ids=equipment, source=row["source"],
                        sha256=row["sha256"], revision=row["revision"],
                        authority=row["authority"] if "authority" in row.keys() else "manufacturer",
                        page_count=row["page_count"],
                        passage_count=row["passage_count"], ingested_at=datetime.fromisoformat(row["ingested_at"]))

    def documents(self, equipment_id: str | None = None) -> list[Document]:
        if equipment_id:
            rows = self.store.query("SELECT d.* FROM documents d JOIN doc_equipment de ON de.doc_id=d.id "
                                    "WHERE de.equipment_id=? ORDER BY d.title", (equipment_id,))
        else:
            rows = self.store.query("SELECT * FROM documents ORDER BY title")
        return [self._document(r) for r in rows]

    def document(self, doc_id: str) -> Document:
        row = self._doc_row("id=?", doc_id)
        if row is None:
            raise UnknownDocument(f"There is no document '{doc_id}' in the library.")
        return self._document(row)

    def set_authority(self, doc_id: str, authority: str) -> Document:
        """Mark a document as the manufacturer's own or as third-party notes."""
        from assistant.domain import Authority

        value = Authority(authority).value
        self.document(doc_id)
        with self.store.transaction() as conn:
            conn.execute("UPDATE documents SET authority=? WHERE id=?", (value, doc_id))
        return self.document(doc_id)

    def remove(self, doc_id: str) -> None:
        """Delete a document, its passages and codes (its original is dropped when unreferenced)."""
        row = self._doc_row("id=?", doc_id)
        if row is None:
            raise UnknownDocument(f"There is no document '{doc_id}' in the library.")
        with self.store.transaction() as conn:
            old = [r[0] for r in conn.execute("SELECT rowid FROM passages WHERE doc_id=?", (doc_id,))]
            conn.executemany("DELETE FROM passages_fts WHERE rowid=?", [(r,) for r in old])
            conn.execute("DELETE FROM documents WHERE id=?", (doc_id,))
            for table in ("passages", "fault_codes", "outline", "pages", "texts", "doc_equipment"):
                conn.execute(f"DELETE FROM {table} WHERE doc_id=?", (doc_id,))
        self._planner.invalidate()
        if self.store.one("SELECT 1 FROM documents WHERE original=?", (row["original"],)) is None:
            self.cache.drop_original(Path(row["original"]))

    # ------------------------------------------------------------------ browse

    def outline(self, doc_id: str) -> list[OutlineEntry]:
        self.document(doc_id)
        rows = self.store.query("SELECT * FROM outline WHERE doc_id=? ORDER BY seq", (doc_id,))
        return [OutlineEntry(section=r["section"], title=r["section"].split(" > ")[-1], level=r["level"],
                             page=r["page"], passage_id=r["passage_id"]) for r in rows]

    def page_info(self, doc_id: str) -> list[PageInfo]:
        self.document(doc_id)
        return [PageInfo(page=r["page"], chars=r["chars"], ocr=bool(r["ocr"]), confidence=r["confidence"])
                for r in self.store.query("SELECT * FROM pages WHERE doc_id=? ORDER BY page", (doc_id,))]

    def page_text(self, doc_id: str, page: int | None = None) -> str:
        """The extracted text a passage's `start`/`end` offsets index into: the page's text for
        paged documents (PDF), the whole document's text otherwise (page None)."""
        self.document(doc_id)
        row = self.store.one("SELECT text FROM texts WHERE doc_id=? AND page=?", (doc_id, page or 0))
        if row is None:
            raise UnknownDocument(f"'{doc_id}' has no page {page}.")
        return row[0]

    _PASSAGE_SQL = ("SELECT p.*, d.title AS doc_title, d.revision AS revision FROM passages p "
                    "JOIN documents d ON d.id=p.doc_id ")

    def _passage(self, row, equipment: list[str] | None = None) -> Passage:
        if equipment is None:
            equipment = [r[0] for r in self.store.query("SELECT equipment_id FROM doc_equipment WHERE doc_id=?",
                                                        (row["doc_id"],))]
        return Passage(id=row["id"], doc_id=row["doc_id"], title=row["doc_title"], page=row["page"],
                       section=row["section"], kind=PassageKind(row["kind"]), text=row["text"], start=row["start"],
                       end=row["end"], equipment_ids=equipment, revision=row["revision"])

    def passages(self, doc_id: str, page: int | None = None) -> list[Passage]:
        self.document(doc_id)
        equipment = [r[0] for r in self.store.query("SELECT equipment_id FROM doc_equipment WHERE doc_id=?",
                                                    (doc_id,))]
        if page is None:
            rows = self.store.query(self._PASSAGE_SQL + "WHERE p.doc_id=? ORDER BY p.seq", (doc_id,))
        else:
            rows = self.store.query(self._PASSAGE_SQL + "WHERE p.doc_id=? AND p.page=? ORDER BY p.seq", (doc_id, page))
        return [self._passage(r, equipment) for r in rows]

    def passage(self, passage_id: str) -> Passage:
        row = self.store.one(self._PASSAGE_SQL + "WHERE p.id=?", (passage_id,))
        if row is None:
            raise UnknownDocument(f"There is no passage '{passage_id}' in the library.")
        return self._passage(row)

    def original_file(self, doc_id: str) -> Path:
        row = self._doc_row("id=?", doc_id)
        if row is None:
            raise UnknownDocument(f"There is no document '{doc_id}' in the library.")
        return self.cache.verified_original(Path(row["original"]), row["sha256"])

    def page_image(self, doc_id: str, page: int, width: int = 1400) -> Path:
        """A PNG of one PDF page at `width` pixels, rendered on first use and cached (LRU)."""
        row = self._doc_row("id=?", doc_id)
        if row is None:
            raise UnknownDocument(f"There is no document '{doc_id}' in the library.")
        if row["format"] != DocumentFormat.PDF.value or not row["page_count"]:
            raise UnknownDocument(f"'{row['title']}' has no pages to show; open its passages instead.")
        if not 1 <= page <= row["page_count"]:
            raise UnknownDocument(f"'{row['title']}' has pages 1 to {row['page_count']}; there is no page {page}.")
        width = max(200, min(int(width), 4000))
        key = f"page:{row['sha256']}:{page}:{width}"

        def render() -> bytes:
            import pypdfium2 as pdfium

            path = self.original_file(doc_id)
            pdf = pdfium.PdfDocument(str(path))
            try:
                pg = pdf[page - 1]
                bitmap = pg.render(scale=width / pg.get_width())
                image = bitmap.to_pil()
                buf = io.BytesIO()
                image.save(buf, format="PNG", optimize=False, compress_level=3)
                pg.close()
                return buf.getvalue()
            finally:
                pdf.close()

        return self.cache.blob_path(key, render)

    def passage_box(self, passage_id: str) -> tuple[float, float, float, float] | None:
        """Where a PDF passage sits on its page, as fractions of the page (x0, top, x1, bottom;
        y grows downwards), to highlight it on a `page_image` of any width. None when unknown."""
        row = self.store.one("SELECT p.x0, p.top, p.x1, p.bottom, g.width, g.height FROM passages p "
                             "LEFT JOIN pages g ON g.doc_id = p.doc_id AND g.page = p.page WHERE p.id=?", (passage_id,))
        if row is None:
            raise UnknownDocument(f"There is no passage '{passage_id}' in the library.")
        if row["x0"] is None or not row["width"] or not row["height"]:
            return None
        w, h = row["width"], row["height"]
        return (max(0.0, row["x0"] / w), max(0.0, row["top"] / h), min(1.0, row["x1"] / w), min(1.0, row["bottom"] / h))

    def figure_image(self, passage_id: str, width: int = 1000) -> Path:
        """A PNG crop of the figure a FIGURE passage (its caption) belongs to: the drawing or image
        just above the caption, caption included. Cached like page images."""
        passage = self.passage(passage_id)
        row = self.store.one("SELECT p.x0, p.top, p.x1, p.bottom, d.sha256, d.format FROM passages p "
                             "JOIN documents d ON d.id = p.doc_id WHERE p.id=?", (passage_id,))
        if passage.kind != PassageKind.FIGURE or row["format"] != DocumentFormat.PDF.value or row["x0"] is None:
            raise UnknownDocument(f"Passage '{passage_id}' is not a figure on a PDF page.")
        width = max(200, min(int(width), 3000))
        key = f"figure:{row['sha256']}:{passage_id}:{width}"
        # the figure cannot reach above the nearest real content (table, prose, steps) over its caption
        above = self.store.query("SELECT kind, text, bottom FROM passages WHERE doc_id=? AND page=? AND bottom IS NOT "
                                 "NULL AND bottom <= ? AND id != ?", (passage.doc_id, passage.page, row["top"],
                                                                      passage_id))
        ceiling = max((r["bottom"] for r in above if _solid_content(r["kind"], r["text"])), default=0.0)

        def render() -> bytes:
            import pypdfium2 as pdfium

            pdf = pdfium.PdfDocument(str(self.original_file(passage.doc_id)))
            try:
                page = pdf[passage.page - 1]
                box = _figure_region(page, (row["x0"], row["top"], row["x1"], row["bottom"]), ceiling)
                scale = width / max(box[2] - box[0], 1.0)
                image = page.render(scale=scale, crop=(box[0], page.get_height() - box[3],
                                                       page.get_width() - box[2], box[1])).to_pil()
                buf = io.BytesIO()
                image.save(buf, format="PNG", compress_level=3)
                page.close()
                return buf.getvalue()
            finally:
                pdf.close()

        return self.cache.blob_path(key, render)

    # ------------------------------------------------------------------ retrieval

    def search(self, query: str, *, equipment_id: str | None = None, doc_id: str | None = None,
               kinds: Sequence[PassageKind] | None = None, limit: int = 10) -> list[SearchHit]:
        limit = max(1, min(int(limit), 200))
        where, params = [], []
        if doc_id:
            where.append("p.doc_id = ?")
            params.append(doc_id)
        if equipment_id:
            where.append("p.doc_id IN (SELECT doc_id FROM doc_equipment WHERE equipment_id = ?)")
            params.append(equipment_id)
        if kinds:
            values = [PassageKind(k).value for k in kinds]
            where.append("p.kind IN (%s)" % ",".join("?" * len(values)))
            params.extend(values)
        known = self._codes_in(query)
        with self.store.lock:
            plans = self._planner.plans(self.store.conn, query, known)
        hits: list[SearchHit] = []
        seen: set[str] = set()
        if known:
            # exact fault-code entries first
            rows = self.store.query(
                "SELECT p.id, p.doc_id, d.title, p.page, p.section, p.kind, p.text FROM fault_codes f "
                "JOIN passages p ON p.id = f.passage_id JOIN documents d ON d.id = p.doc_id "
                "WHERE (f.compact IN (%s) OR f.key IN (%s))%s ORDER BY d.title, f.seq LIMIT ?" % (
                    ",".join("?" * len(known)), ",".join("?" * len(known)),
                    "".join(" AND " + w for w in where)),
                [compact(c) for c in known] + [code_key(c) for c in known] + params + [limit])
            for r in rows:
                seen.add(r["id"])
                hits.append(SearchHit(passage_id=r["id"], doc_id=r["doc_id"], title=r["title"], page=r["page"],
                                      section=r["section"], snippet=_highlight(r["text"], query, known),
                                      score=0.0, kind=PassageKind(r["kind"])))
        if plans:
            # rank inside FTS5 first (no joins, no snippets per matching row), then fetch the top rows
            # filters are scope tokens inside the MATCH: doclist intersections, no join per matching row
            scope = _search.scope_filter(doc_id, equipment_id, [PassageKind(k).value for k in kinds or ()])
            inner = "SELECT rowid AS rid, -{bm} AS score FROM passages_fts WHERE passages_fts MATCH ? " \
                    "ORDER BY {bm} LIMIT ?"
            sql = ("SELECT p.id, p.doc_id, d.title, p.page, p.section, p.kind, p.text, top.score FROM (" + inner +
                   ") AS top JOIN passages p ON p.rowid = top.rid JOIN documents d ON d.id = p.doc_id "
                   "ORDER BY top.score DESC").format(bm=_search.BM25)
            want = max(limit * 3, 30) + len(seen)
            rows = []
            for match in plans:
                try:
                    rows = self.store.query(sql, [f"({match}) AND {scope}" if scope else match, want])
                except sqlite3.OperationalError as err:  # a query we could not make safe: no hits, never a crash
                    log.warning("search query rejected by FTS5: %s", err)
                    rows = []
                if len(rows) >= limit:
                    break
            ranked = _search.rerank(rows, query)
            top = ranked[0][0] if ranked else 0.0
            for hit in hits:
                hit.score = round(top + 1.0, 4)
            for score, r in ranked:
                if r["id"] in seen:
                    continue
                if len(hits) >= limit:
                    break
                seen.add(r["id"])
                hits.append(SearchHit(passage_id=r["id"], doc_id=r["doc_id"], title=r["title"], page=r["page"],
                                      section=r["section"], snippet=_search.snippet(r["text"], query),
                                      score=round(score, 4),
                                      kind=PassageKind(r["kind"])))
        return hits[:limit]

    def _codes_in(self, query: str) -> list[str]:
        candidates = _search.code_candidates(query)
        if not candidates:
            return []
        keys = {code_key(c) for c in candidates} | {compact(c) for c in candidates}
        rows = self.store.query("SELECT DISTINCT code FROM fault_codes WHERE key IN (%s) OR compact IN (%s)" % (
            ",".join("?" * len(keys)), ",".join("?" * len(keys))), list(keys) * 2)
        return [r[0] for r in rows]

    def _fault(self, row) -> FaultCode:
        equipment = [r[0] for r in self.store.query("SELECT equipment_id FROM doc_equipment WHERE doc_id=?",
                                                    (row["doc_id"],))]
        return FaultCode(code=row["code"], title=row["title"], cause=row["cause"], remedy=row["remedy"],
                         doc_id=row["doc_id"], passage_id=row["passage_id"], page=row["page"], section=row["section"],
                         equipment_ids=equipment, description=row["description"], confidence=row["confidence"])

    def fault_codes(self, equipment_id: str | None = None) -> list[FaultCode]:
        if equipment_id:
            rows = self.store.query("SELECT f.* FROM fault_codes f JOIN doc_equipment de ON de.doc_id=f.doc_id "
                                    "WHERE de.equipment_id=? ORDER BY f.doc_id, f.seq", (equipment_id,))
        else:
            rows = self.store.query("SELECT * FROM fault_codes ORDER BY doc_id, seq")
        return [self._fault(r) for r in rows]

    def known_codes(self, equipment_id: str | None = None) -> set[str]:
        """Every fault code the library knows, as printed (e.g. "F0001", "E-21", "Err 07")."""
        if equipment_id:
            rows = self.store.query("SELECT DISTINCT f.code FROM fault_codes f JOIN doc_equipment de "
                                    "ON de.doc_id=f.doc_id WHERE de.equipment_id=?", (equipment_id,))
        else:
            rows = self.store.query("SELECT DISTINCT code FROM fault_codes")
        return {r[0] for r in rows}

    def lookup_code(self, code: str, equipment_id: str | None = None) -> list[FaultCode]:
        """Entries for a code however it is written ('e21', 'E-021' and 'E 21' find 'E-21')."""
        if not code or not code.strip():
            return []
        params: list = [compact(code), code_key(code)]
        sql = ("SELECT f.*, d.revision AS doc_revision, d.ingested_at AS doc_ingested_at"
               " FROM fault_codes f JOIN documents d ON d.id = f.doc_id WHERE (f.compact=? OR f.key=?)")
        if equipment_id:
            sql += " AND f.doc_id IN (SELECT doc_id FROM doc_equipment WHERE equipment_id=?)"
            params.append(equipment_id)
        rows = self.store.query(sql + " ORDER BY f.doc_id, f.seq", params)
        # Exact spellings first; within those, the newest revision of a manual before older ones.
        rows.sort(key=lambda r: (revision_key(r["doc_revision"]), r["doc_ingested_at"]), reverse=True)
        rows.sort(key=lambda r: r["compact"] != compact(code))
        return [self._fault(r) for r in rows]

    # ------------------------------------------------------------------ revisions

    def revisions(self, doc_id: str) -> list[Document]:
        """Every revision of the manual `doc_id` belongs to (itself included), by revision label."""
        row = self._doc_row("id=?", doc_id)
        if row is None:
            raise UnknownDocument(f"There is no document '{doc_id}' in the library.")
        rows = self.store.query("SELECT * FROM documents WHERE family=? ORDER BY revision, ingested_at",
                                (row["family"],))
        return [self._document(r) for r in rows]

    def revisions_conflict(self, passage_ids: Sequence[str]) -> list[tuple[str, str]]:
        """Pairs of the given passages that come from different revisions of one manual and
        cover the same thing (same section heading or same fault code) with different text."""
        rows = []
        for pid in dict.fromkeys(passage_ids):
            row = self.store.one("SELECT p.id, p.doc_id, p.section, p.text, p.codes, d.family, d.revision "
                                 "FROM passages p JOIN documents d ON d.id=p.doc_id WHERE p.id=?", (pid,))
            if row is not None:
                rows.append(row)
        out = []
        for i, a in enumerate(rows):
            for b in rows[i + 1:]:
                if a["family"] != b["family"] or a["doc_id"] == b["doc_id"]:
                    continue
                same_code = bool(a["codes"] and b["codes"] and {code_key(c) for c in a["codes"].split()}
                                 & {code_key(c) for c in b["codes"].split()})
                same_section = _norm_section(a["section"]) == _norm_section(b["section"]) and a["section"] != ""
                if not (same_code or same_section):
                    continue
                if fuzz.ratio(" ".join(a["text"].split()), " ".join(b["text"].split())) >= 98:
                    continue
                out.append((a["id"], b["id"]))
        return out

    # ------------------------------------------------------------------ sync

    def add_url(self, url: str, *, equipment_ids: Sequence[str] = (), title: str | None = None,
                kind: DocumentKind | None = None, revision: str = "", sha256: str = "",
                on_progress: Callable[[SyncProgress], None] | None = None) -> Document:
        """Download one document over http(s) and ingest it (`library add URL`). A second call
        sends a conditional GET. Raises SyncError (network) or MalformedFile (content)."""
        from assistant.library.sync import add_url

        return add_url(self, url, equipment_ids=equipment_ids, title=title, kind=kind, revision=revision,
                       sha256=sha256, on_progress=on_progress)

    def sync(self, url: str, *, on_progress: Callable[[SyncProgress], None] | None = None,
             timeout: float = 30.0) -> SyncReport:
        from assistant.library.sync import sync_feed

        return sync_feed(self, url, on_progress=on_progress, timeout=timeout)


def _solid_content(kind: str, text: str) -> bool:
    """Content that is certainly not part of a figure: real tables, steps, warnings, fault entries."""
    if kind in (PassageKind.PROCEDURE.value, PassageKind.WARNING.value, PassageKind.FAULT_CODE.value):
        return True
    return kind == PassageKind.TABLE.value and text.count("\n") >= 2


def _figure_region(page, caption: tuple[float, float, float, float], ceiling: float = 0.0
                   ) -> tuple[float, float, float, float]:
    """The page region (x0, top, x1, bottom in y-down points) of the figure above a caption: the
    cluster of image / drawing objects nearest above it, joined while gaps stay small."""
    import pypdfium2.raw as pdfium_c

    height, width = page.get_height(), page.get_width()
    boxes = []
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_PATH,
                                        pdfium_c.FPDF_PAGEOBJ_SHADING, pdfium_c.FPDF_PAGEOBJ_FORM,
                                        pdfium_c.FPDF_PAGEOBJ_TEXT], max_depth=1):
        left, bottom, right, top = obj.get_bounds()
        box = (left, height - top, right, height - bottom)
        is_text = obj.type == pdfium_c.FPDF_PAGEOBJ_TEXT
        if is_text and box[2] - box[0] >= width * 0.6 and box[3] <= caption[1]:
            ceiling = max(ceiling, box[3])  # a line of prose: the figure starts below it
            continue
        if box[3] <= caption[1] + 2 and box[2] - box[0] < width * (0.4 if is_text else 0.98):
            boxes.append(box)  # drawings, images and short labels (callouts) above the caption
    boxes = [b for b in boxes if b[1] >= ceiling - 1]
    region = list(caption)
    for box in sorted(boxes, key=lambda b: -b[3]):  # nearest above the caption first
        if region[1] - box[3] > 40:
            break
        region = [min(region[0], box[0]), min(region[1], box[1]), max(region[2], box[2]), max(region[3], box[3])]
    pad = 6.0
    return (max(0.0, region[0] - pad), max(ceiling, region[1] - pad), min(width, region[2] + pad),
            min(height, region[3] + pad))


def _norm_section(section: str) -> str:
    parts = [re.sub(r"^(?:\d+\.)*\d+\.?\s+", "", p.strip().lower()) for p in section.split(" > ")]
    return " > ".join(parts)


def _highlight(text: str, query: str, codes: Sequence[str]) -> str:
    """A short snippet of `text` with query terms and codes marked [[like this]]."""
    words = set(_search.terms(query)) | {c.lower() for c in codes}
    snippet = " ".join(text.split())
    if len(snippet) > 240:
        snippet = snippet[:240].rsplit(" ", 1)[0] + " …"
    for code in sorted(codes, key=len, reverse=True):
        snippet = re.sub(re.escape(code), lambda m: f"[[{m.group()}]]", snippet, flags=re.I)
    if words:
        pattern = re.compile(r"(?<!\[\[)\b(%s)\b(?!\]\])" % "|".join(re.escape(w) for w in words if len(w) > 2), re.I) \
            if any(len(w) > 2 for w in words) else None
        if pattern is not None:
            snippet = pattern.sub(lambda m: f"[[{m.group()}]]", snippet)
    return snippet.replace("[[[[", "[[").replace("]]]]", "]]")
