"""`fieldlens doctor`: check every store of a home and, with `repair`, mend what
can be mended.

Checks: settings.json and secrets.json (shape only: a secret is never read
out), the library index (SQLite integrity, the FTS search index against its
passages), the cached originals against their sha256, the page/OCR cache and
the model-response cache (diskcache), the sessions database (SQLite
integrity) and the session photos against their sha256, and stores the
manifest records that went missing or empty.

Repair rebuilds what can be rebuilt (the search index from the passages, a
cache by moving it aside; an original from its source file when that still
has the same sha256) and moves what cannot aside with a dated name; it never
deletes anything.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path

from assistant import stores
from assistant.config import Settings, read_json_object, validation_sentence

OK, PROBLEM, REPAIRED = "ok", "problem", "repaired"


@dataclass
class Finding:
    check: str
    path: str
    status: str  # ok, problem, repaired
    detail: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _lenient_text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _integrity(path: Path) -> str | None:
    """None when SQLite finds the file sound, else what it reported (first line)."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.text_factory = _lenient_text
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
    except (sqlite3.Error, UnicodeDecodeError) as exc:
        return str(exc)
    result = "; ".join(str(r[0]) for r in rows[:3])
    return None if result == "ok" else result


class Doctor:
    def __init__(self, settings: Settings, repair: bool = False) -> None:
        self.settings, self.repair = settings, repair
        self.home = settings.home
        self.findings: list[Finding] = []

    def add(self, check: str, path: Path, status: str, detail: str = "") -> None:
        self.findings.append(Finding(check, str(path), status, detail))

    def run(self) -> list[Finding]:
        self.check_json(self.settings.settings_file, "settings", "settings file")
        self.check_json(self.settings.secrets_file, "secrets", "secrets file")
        self.check_library()
        self.check_cache(self.settings.library_dir / "cache" / "blobs", "library cache")
        self.check_cache(self.settings.cache_dir / "responses", "response cache")
        self.check_sessions()
        return self.findings

    # ---------------------------------------------------------------- files

    def check_json(self, path: Path, check: str, what: str) -> None:
        data, problem = read_json_object(path, what)
        if problem is None and data and check == "settings":
            try:
                Settings(**{**data, "home": self.home})
            except ValueError as exc:
                problem = validation_sentence(exc) if hasattr(exc, "errors") else str(exc)
        if problem is None and check == "secrets" and data and not isinstance(data.get("api_key", ""), str):
            problem = "its API key is not text"
        if problem is None:
            self.add(check, path, OK, "absent (defaults)" if not path.exists() else "")
        elif self.repair:
            moved = stores.move_aside(path)
            self.add(check, path, REPAIRED, f"{problem}; moved to {moved.name}, the defaults are used")
        else:
            self.add(check, path, PROBLEM, problem)

    def _lost(self, name: str, path: Path, check: str) -> bool:
        why = stores.lost_store(self.home, name)
        if not why:
            return False
        if self.repair:
            detail = f"{why} although this home held one; a new empty one will be created"
            if path.exists():
                detail += f" (the {why} file was moved to {stores.move_aside(path).name})"
            stores.forget_store(self.home, name)
            self.add(check, path, REPAIRED, detail)
        else:
            self.add(check, path, PROBLEM, f"{why} although this home held one")
        return True

    def _database_sound(self, name: str, path: Path, check: str, after_move: str) -> bool:
        """True when the store's SQLite file exists and passes its integrity check; otherwise the
        finding (lost, absent, damaged: moved aside under repair) is recorded and False returned."""
        if self._lost(name, path, check):
            return False
        if not path.exists():
            self.add(check, path, OK, "absent (created when first needed)")
            return False
        problem = _integrity(path)
        if problem is None:
            return True
        if self.repair:
            moved = stores.move_aside(path)
            stores.forget_store(self.home, name)
            self.add(check, path, REPAIRED, f"damaged ({problem}); moved to {moved.name}; {after_move}")
        else:
            self.add(check, path, PROBLEM, f"damaged ({problem})")
        return False

    # ---------------------------------------------------------------- library

    def check_library(self) -> None:
        index = self.settings.library_dir / "index.sqlite"
        if not self._database_sound("library", index, "library index",
                                    "add the documents again (their originals are kept in the cache)"):
            return
        conn = sqlite3.connect(str(index))  # read-write only for FTS5's 'integrity-check', which changes nothing
        conn.row_factory = sqlite3.Row
        conn.text_factory = _lenient_text
        try:
            docs = conn.execute("SELECT id, title, sha256, original, source FROM documents").fetchall()
            passages = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
            fts_problem = self._fts_problem(conn, passages)
        except (sqlite3.Error, UnicodeDecodeError) as exc:
            conn.close()
            self.add("library index", index, PROBLEM, f"unreadable ({exc})")
            return
        conn.close()
        self.add("library index", index, OK, f"{len(docs)} documents, {passages} passages")
        if fts_problem:
            if self.repair:
                self._rebuild_search_index()
                self.add("search index", index, REPAIRED, f"{fts_problem}; rebuilt from the passages")
            else:
                self.add("search index", index, PROBLEM, fts_problem)
        else:
            self.add("search index", index, OK, f"{passages} passages indexed")
        self.check_originals(docs)

    @staticmethod
    def _fts_problem(conn: sqlite3.Connection, passages: int) -> str | None:
        try:
            indexed = conn.execute("SELECT count(*) FROM passages_fts").fetchone()[0]
            missing = conn.execute("SELECT count(*) FROM passages p WHERE NOT EXISTS "
                                   "(SELECT 1 FROM passages_fts f WHERE f.rowid = p.rowid)").fetchone()[0]
            differ = conn.execute("SELECT count(*) FROM passages p JOIN passages_fts f ON f.rowid = p.rowid "
                                  "WHERE f.text IS NOT p.text").fetchone()[0]
        except sqlite3.Error as exc:
            return f"it cannot be read ({exc})"
        if missing or differ or indexed != passages:
            return (f"{missing} passages are missing from it, {differ} differ from their text, it has "
                    f"{indexed} rows for {passages} passages")
        try:
            conn.execute("INSERT INTO passages_fts(passages_fts, rank) VALUES ('integrity-check', 1)")
        except sqlite3.DatabaseError as exc:
            return f"FTS5 finds it inconsistent ({exc})"
        return None

    def _rebuild_search_index(self) -> None:
        from assistant.library import Library

        with Library(self.settings.library_dir) as library:
            library._rebuild_fts()

    def check_originals(self, docs: list[sqlite3.Row]) -> None:
        bad = []
        originals = self.settings.library_dir / "cache" / "originals"
        for doc in docs:
            stored = Path(doc["original"])
            original = originals / stored.parent.name / stored.name  # this home's copy, also in a moved home
            if original.is_file() and _sha256(original) == doc["sha256"]:
                continue
            state = "missing" if not original.exists() else "damaged"
            source = Path(doc["source"]) if doc["source"] and "://" not in doc["source"] else None
            if self.repair and source is not None and source.is_file() and _sha256(source) == doc["sha256"]:
                if original.exists():
                    stores.move_aside(original)
                original.parent.mkdir(parents=True, exist_ok=True)
                original.write_bytes(source.read_bytes())
                self.add("cached original", original, REPAIRED, f"{doc['title']}: {state}; copied again from {source}")
                continue
            if self.repair and original.exists():
                moved = stores.move_aside(original)
                self.add("cached original", original, PROBLEM,
                         f"{doc['title']}: damaged, moved to {moved.name}; add the document again")
                continue
            bad.append(f"{doc['title']} ({state})")
        if bad:
            self.add("cached originals", self.settings.library_dir / "cache" / "originals", PROBLEM,
                     f"{len(bad)} of {len(docs)} do not match their sha256: " + ", ".join(bad[:5])
                     + "; add those documents again")
        else:
            self.add("cached originals", self.settings.library_dir / "cache" / "originals", OK,
                     f"{len(docs)} match their sha256")

    # ---------------------------------------------------------------- caches

    def check_cache(self, directory: Path, check: str) -> None:
        import diskcache

        if not directory.exists():
            self.add(check, directory, OK, "absent (created when first needed)")
            return
        problem = None
        try:
            with diskcache.Cache(str(directory)) as cache:
                warnings = cache.check(fix=False)
                count = len(cache)
            if warnings:
                problem = f"{len(warnings)} inconsistencies ({warnings[0].message})"
        except (sqlite3.Error, OSError, diskcache.Timeout) as exc:
            problem = f"it cannot be opened ({exc})"
        if problem is None:
            self.add(check, directory, OK, f"{count} entries")
        elif self.repair:
            moved = stores.move_aside(directory)
            self.add(check, directory, REPAIRED, f"{problem}; moved to {moved.name}, rebuilt as it is used")
        else:
            self.add(check, directory, PROBLEM, problem)

    # ---------------------------------------------------------------- sessions

    def check_sessions(self) -> None:
        db = self.settings.sessions_dir / "sessions.sqlite"
        if self._database_sound("sessions", db, "sessions database",
                                "restore it from a backup to get those sessions back; a new empty one will be created"):
            self.add("sessions database", db, OK)
        photos = self.settings.sessions_dir / "photos"
        files = [p for p in photos.rglob("*") if p.is_file() and ".prepared." not in p.name
                 and not p.name.startswith(".") and ".damaged-" not in p.name] if photos.exists() else []
        bad = [p for p in files if _sha256(p) != p.name.split(".")[0]]
        if not bad:
            self.add("session photos", photos, OK, f"{len(files)} match their sha256")
        elif self.repair:
            for p in bad:
                stores.move_aside(p)
            self.add("session photos", photos, REPAIRED,
                     f"{len(bad)} of {len(files)} did not match their sha256 and were moved aside")
        else:
            self.add("session photos", photos, PROBLEM,
                     f"{len(bad)} of {len(files)} do not match their sha256: " + ", ".join(p.name for p in bad[:3]))


def run_doctor(settings: Settings, repair: bool = False) -> list[Finding]:
    return Doctor(settings, repair).run()
