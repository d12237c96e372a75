"""The equipment catalog: matching (asset-tag normalisation, model strings that
tolerate OCR confusions O/0, I/l/1, S/5, B/8, Z/2 and spacing or dashes),
finding equipment by any of its names, tags or the fault codes its documents
list, and the admin side: validating entries (safe ids, valid serial regexes,
no duplicate ids, names, tags, models or aliases), adding, editing and
removing them, linking documents, and importing a `catalog.yaml`."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from pydantic import ValidationError
from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process

from assistant.domain import Document, DocumentKind, Equipment
from assistant.errors import InvalidEquipment, MalformedFile, UnknownEquipment

if TYPE_CHECKING:
    from assistant.library import Library
    from assistant.library.store import Store

_NON_ALNUM = re.compile(r"[^0-9A-Z]+")
_FOLD = str.maketrans({"O": "0", "Q": "0", "I": "1", "L": "1", "|": "1", "S": "5", "B": "8", "Z": "2", "G": "6"})


@lru_cache(maxsize=65536)
def norm_tag(tag: str) -> str:
    """Asset tags compare without case, spaces, dashes or other punctuation."""
    return _NON_ALNUM.sub("", tag.upper())


@lru_cache(maxsize=65536)  # the same catalog strings are folded on every search keystroke
def fold(text: str) -> str:
    """Upper-case alphanumerics with look-alike characters folded together."""
    return norm_tag(text).translate(_FOLD)


def tag_matches(payload: str, tags: dict[str, str]) -> str | None:
    """Equipment id for a scanned payload. `tags` maps normalised tag -> equipment id.
    Exact first, then look-alike folding, then a known tag inside a longer payload (URLs)."""
    key = norm_tag(payload)
    if not key:
        return None
    if key in tags:
        return tags[key]
    folded = fold(payload)
    for tag, equipment_id in tags.items():
        if fold(tag) == folded:
            return equipment_id
    best = None
    for tag, equipment_id in tags.items():
        if len(tag) >= 5 and (tag in key or fold(tag) in folded):
            if best is None or len(tag) > best[0]:
                best = (len(tag), equipment_id)
    return best[1] if best else None


def model_score(text: str, candidate: str) -> float:
    """0..1 similarity of a model string read off a nameplate to a catalog model/alias."""
    a, b = fold(text), fold(candidate)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    score = fuzz.ratio(a, b) / 100
    if len(a) > len(b) + 1 and len(b) >= 3:
        # a longer OCR line that contains the model ("MODEL CP-40 7.5kW")
        tokens = re.split(r"[\s:;,/]+", text.upper())
        for i in range(len(tokens)):
            for j in range(i + 1, min(i + 4, len(tokens)) + 1):
                piece = fold(" ".join(tokens[i:j]))
                if piece == b:
                    return 0.97
        score = max(score, fuzz.partial_ratio(b, a) / 100 * 0.9 if len(b) >= 4 else 0.0)
    return score


def match_models(text: str, equipment: Iterable[Equipment], threshold: float = 0.6) -> list[tuple[Equipment, float]]:
    out = []
    for item in equipment:
        best = 0.0
        for candidate in [item.model, *item.aliases]:
            if candidate:
                best = max(best, model_score(text, candidate))
        for pattern in item.serial_patterns:
            try:
                if re.search(pattern, text.strip()):
                    best = max(best, 0.95)
            except re.error:
                continue
        if best >= threshold:
            out.append((item, round(best, 3)))
    out.sort(key=lambda pair: -pair[1])
    return out


SEARCH_CUTOFF = 70.0


def search_equipment(query: str, equipment: Iterable[Equipment], limit: int = 10) -> list[Equipment]:
    """Entries whose id, name, model, manufacturer, category, aliases or asset tags match `query`:
    exactly (100), as a substring (90), or fuzzily, as typed (WRatio) or as OCR reads a model
    (look-alike folding). The fuzzy passes run in rapidfuzz's C loops over every field at once."""
    items = list(equipment)
    q = query.strip().lower()
    if not q:
        return items[:limit]
    owners: list[int] = []
    texts: list[str] = []
    for i, item in enumerate(items):
        for value in (item.id, item.name, item.model, item.manufacturer, item.category, *item.aliases,
                      *item.asset_tags):
            if value:
                owners.append(i)
                texts.append(value.lower())
    best = [0.0] * len(items)

    def keep(k: int, score: float) -> None:
        best[owners[k]] = max(best[owners[k]], score)

    for k, text in enumerate(texts):
        if q == text:
            keep(k, 100.0)
        elif q in text:
            keep(k, 90.0)
    for _, score, k in process.extract(q, texts, scorer=fuzz.WRatio, processor=default_process,
                                       score_cutoff=SEARCH_CUTOFF, limit=None):
        keep(k, score)
    folded_query = fold(q)
    if len(q) <= 24 and folded_query:
        folded = [fold(t) for t in texts]
        for _, score, k in process.extract(folded_query, folded, scorer=fuzz.ratio, score_cutoff=SEARCH_CUTOFF,
                                           limit=None):
            keep(k, score)
        shorter = [k for k, value in enumerate(folded) if 3 <= len(value) < len(folded_query) - 1]
        for k in shorter:
            if folded[k] in folded_query:  # the query holds the model ("model cp-40 7.5kw")
                keep(k, 97.0)
        partial = [k for k in shorter if len(folded[k]) >= 4]
        for _, score, j in process.extract(folded_query, [folded[k] for k in partial], scorer=fuzz.partial_ratio,
                                           score_cutoff=SEARCH_CUTOFF / 0.9, limit=None):
            keep(partial[j], score * 0.9)
    ranked = sorted((i for i, score in enumerate(best) if score >= SEARCH_CUTOFF), key=lambda i: -best[i])
    return [items[i] for i in ranked[:limit]]


def list_equipment(store: Store) -> list[Equipment]:
    """Every entry with its document ids (ordered by document title), by name, in two queries."""
    documents: dict[str, list[str]] = {}
    for row in store.query("SELECT de.equipment_id, de.doc_id FROM doc_equipment de JOIN documents d "
                           "ON d.id = de.doc_id ORDER BY d.title"):
        documents.setdefault(row[0], []).append(row[1])
    return [item.model_copy(update={"document_ids": documents.get(item.id, [])})
            for item in (Equipment.model_validate_json(r[0]) for r in store.query(
                "SELECT data FROM equipment ORDER BY name"))]


# ---------------------------------------------------------------------------- validation

EQUIPMENT_ID = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$")
MAX_TEXT = 200


def suggest_id(text: str) -> str:
    """A valid id made from any text ("Pump CP-40 / line 2" -> "pump-cp-40-line-2")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:64].strip("-")


def check_equipment_id(value: str) -> str:
    """The id itself when it is a safe slug (it appears in paths, URLs and the UI), else InvalidEquipment."""
    if EQUIPMENT_ID.match(value or "") and ".." not in value:
        return value
    if not (value or "").strip():
        raise InvalidEquipment("Give the equipment an id (an equipment id is lower-case letters, digits "
                               "and - _ . e.g. pump-cp40).")
    hint = suggest_id(value or "")
    tip = f" such as '{hint}'" if hint and hint != value else ""
    raise InvalidEquipment(f"'{value}' is not a usable equipment id: use lower-case letters, digits and - _ . "
                           f"(at most 64, starting and ending with a letter or digit){tip}.")


def _clean_text(value: str, what: str) -> str:
    text = " ".join(str(value or "").split())
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise InvalidEquipment(f"The {what} contains control characters.")
    if len(text) > MAX_TEXT:
        raise InvalidEquipment(f"The {what} is longer than {MAX_TEXT} characters.")
    return text


def _clean_list(values: Iterable[str], what: str) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for value in values:
        text = _clean_text(value, what)
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            out.append(text)
    return out


def check_serial_pattern(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as err:
        raise InvalidEquipment(f"The serial pattern '{pattern}' is not a valid regular expression ({err}).") from None
    return pattern


def normalise(item: Equipment) -> Equipment:
    """The entry with a checked id, tidy text and lists, and compiled-checked serial patterns."""
    check_equipment_id(item.id)
    name = _clean_text(item.name, "name")
    if not name:
        raise InvalidEquipment(f"Equipment '{item.id}' needs a name.")
    patterns = [check_serial_pattern(p.strip()) for p in item.serial_patterns if p and p.strip()]
    return item.model_copy(update={
        "name": name,
        "manufacturer": _clean_text(item.manufacturer, "manufacturer"),
        "model": _clean_text(item.model, "model"),
        "category": _clean_text(item.category, "category"),
        "aliases": _clean_list(item.aliases, "alias"),
        "asset_tags": _clean_list(item.asset_tags, "asset tag"),
        "serial_patterns": list(dict.fromkeys(patterns)),
    })


def _label(item: Equipment) -> str:
    return f"'{item.id}' ({item.name})"


def check_unique(item: Equipment, others: Iterable[Equipment]) -> None:
    """Refuse an entry whose name, asset tags, model or aliases already identify another entry:
    a tag, nameplate or search must lead to one machine."""
    names = {fold(n) for n in (item.model, *item.aliases) if fold(n)}
    tags = {norm_tag(t): t for t in item.asset_tags if norm_tag(t)}
    for other in others:
        if other.id == item.id:
            continue
        if item.name.casefold() == other.name.casefold():
            raise InvalidEquipment(f"The name '{item.name}' is already used by {_label(other)}.")
        for tag in other.asset_tags:
            if norm_tag(tag) in tags:
                raise InvalidEquipment(f"The asset tag '{tags[norm_tag(tag)]}' already belongs to {_label(other)}.")
        for known in (other.model, *other.aliases):
            if known and fold(known) in names:
                which = "model" if known == other.model else "an alias"
                raise InvalidEquipment(f"'{known}' is already {which} of {_label(other)}: a model or alias "
                                       f"must name one entry.")


@dataclass(frozen=True)
class EquipmentEdit:
    """What `equipment edit` changes. Text fields replace (None leaves them, "" clears an optional
    one); the list options add or remove single values."""

    name: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    category: str | None = None
    add_aliases: Sequence[str] = ()
    remove_aliases: Sequence[str] = ()
    add_asset_tags: Sequence[str] = ()
    remove_asset_tags: Sequence[str] = ()
    add_serial_patterns: Sequence[str] = ()
    remove_serial_patterns: Sequence[str] = ()

    def is_empty(self) -> bool:
        return all(getattr(self, f) in (None, ()) or getattr(self, f) == [] for f in self.__dataclass_fields__)


def _without(values: list[str], removed: Sequence[str], what: str, item: Equipment) -> list[str]:
    out = list(values)
    for value in removed:
        key = " ".join(value.split()).casefold()
        match = [v for v in out if v.casefold() == key]
        if not match:
            have = ", ".join(values) or "none"
            raise InvalidEquipment(f"'{value}' is not {what} of '{item.id}' (it has: {have}).")
        out = [v for v in out if v.casefold() != key]
    return out


def apply_edit(item: Equipment, edit: EquipmentEdit) -> Equipment:
    if edit.is_empty():
        raise InvalidEquipment(f"Nothing to change for '{item.id}': give at least one option to edit.")
    update: dict = {k: getattr(edit, k) for k in ("name", "manufacturer", "model", "category")
                    if getattr(edit, k) is not None}
    update["aliases"] = _without(item.aliases, edit.remove_aliases, "an alias", item) + list(edit.add_aliases)
    update["asset_tags"] = _without(item.asset_tags, edit.remove_asset_tags, "an asset tag", item) + \
        list(edit.add_asset_tags)
    patterns = [p for p in item.serial_patterns if p not in set(edit.remove_serial_patterns)]
    for pattern in edit.remove_serial_patterns:
        if pattern not in item.serial_patterns:
            have = ", ".join(item.serial_patterns) or "none"
            raise InvalidEquipment(f"'{pattern}' is not a serial pattern of '{item.id}' (it has: {have}).")
    update["serial_patterns"] = patterns + list(edit.add_serial_patterns)
    return item.model_copy(update=update)


# ---------------------------------------------------------------------------- storage


def _require(library: Library, equipment_id: str) -> Equipment:
    return library.get_equipment(equipment_id)


def add_equipment(library: Library, item: Equipment) -> Equipment:
    """Create a new entry; an id that exists already is an error naming that entry."""
    item = normalise(item)
    existing = library.store.one("SELECT data FROM equipment WHERE id=?", (item.id,))
    if existing is not None:
        other = Equipment.model_validate_json(existing["data"])
        raise InvalidEquipment(f"There is already equipment {_label(other)} in the catalog; change it with "
                               f"`fieldlens equipment edit {item.id} ...`.")
    check_unique(item, library.equipment())
    return library.upsert_equipment(item.model_copy(update={"document_ids": []}))


def edit_equipment(library: Library, equipment_id: str, edit: EquipmentEdit) -> Equipment:
    current = _require(library, equipment_id)
    item = normalise(apply_edit(current, edit))
    check_unique(item, library.equipment())
    return library.upsert_equipment(item)


def _drop_links(library: Library, conn, equipment_id: str, doc_ids: Sequence[str]) -> None:
    conn.executemany("DELETE FROM doc_equipment WHERE doc_id=? AND equipment_id=?",
                     [(d, equipment_id) for d in doc_ids])
    for doc_id in doc_ids:
        # the search index carries each passage's equipment scope: rewrite it for these documents
        library._reindex(conn, doc_id)


def remove_equipment(library: Library, equipment_id: str) -> list[str]:
    """Delete an entry; its documents stay in the library, unlinked. Returns their ids."""
    item = _require(library, equipment_id)
    with library.store.transaction() as conn:
        _drop_links(library, conn, equipment_id, item.document_ids)
        conn.execute("DELETE FROM asset_tags WHERE equipment_id=?", (equipment_id,))
        conn.execute("DELETE FROM equipment WHERE id=?", (equipment_id,))
    library._planner.invalidate()
    return list(item.document_ids)


def link_documents(library: Library, equipment_id: str, doc_ids: Sequence[str]) -> Equipment:
    _require(library, equipment_id)
    for doc_id in doc_ids:
        library.document(doc_id)  # unknown ids fail before anything is linked
    for doc_id in doc_ids:
        library.add_links(doc_id, [equipment_id])
    return _require(library, equipment_id)


def unlink_documents(library: Library, equipment_id: str, doc_ids: Sequence[str]) -> Equipment:
    item = _require(library, equipment_id)
    for doc_id in doc_ids:
        library.document(doc_id)
    linked = [d for d in doc_ids if d in item.document_ids]
    if linked:
        with library.store.transaction() as conn:
            _drop_links(library, conn, equipment_id, linked)
        library._planner.invalidate()
    return _require(library, equipment_id)


# ---------------------------------------------------------------------------- finding


def find_equipment(library: Library, query: str, limit: int = 10) -> list[Equipment]:
    """Entries whose name, model, manufacturer, alias or asset tag match `query`, or whose
    documents list it as a fault code; best first."""
    items = library.equipment()
    if not query.strip():
        return items[:limit]
    scores: dict[str, float] = {}
    for rank, item in enumerate(search_equipment(query, items, limit=len(items))):
        scores[item.id] = 100.0 - rank * 0.01
    tag = norm_tag(query)
    for item in items:
        if tag and any(norm_tag(t) == tag for t in item.asset_tags):
            scores[item.id] = 101.0
    owners: dict[str, int] = {}
    for entry in library.lookup_code(query.strip()):
        for equipment_id in entry.equipment_ids:
            owners[equipment_id] = owners.get(equipment_id, 0) + 1
    for equipment_id in owners:
        # a code only one entry knows names it outright; a shared one is a weaker hint
        scores[equipment_id] = max(scores.get(equipment_id, 0.0), 100.5 if len(owners) == 1 else 95.0)
    by_id = {item.id: item for item in items}
    ranked = sorted((i for i in scores if i in by_id), key=lambda i: (-scores[i], by_id[i].name))
    return [by_id[i] for i in ranked[:limit]]


# ---------------------------------------------------------------------------- catalog files


@dataclass
class CatalogImport:
    """What importing a catalog file did."""

    file: str
    equipment: list[str] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)


def is_catalog_file(path: Path) -> bool:
    """A YAML file with an `equipment` list of entries or a `documents` list of paths (a work
    instruction's `equipment` is a list of ids, not entries)."""
    if Path(path).suffix.lower() not in {".yaml", ".yml"}:
        return False
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    if not isinstance(data, dict):
        return False
    equipment, documents = data.get("equipment"), data.get("documents")
    entries = isinstance(equipment, list) and bool(equipment) and all(isinstance(e, dict) for e in equipment)
    docs = isinstance(documents, list) and bool(documents) and all(
        isinstance(d, dict) and "path" in d for d in documents)
    return entries or docs


def _validation_sentence(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "entry"
    return f"{where}: {first.get('msg', 'invalid')}"


def read_catalog_file(path: Path) -> tuple[list[Equipment], list[dict]]:
    """The checked equipment entries and document entries of a catalog file. Nothing is written."""
    path = Path(path)
    name = path.name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise MalformedFile(f"{name} does not exist.") from None
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise MalformedFile(f"{name} is not valid YAML ({str(err).splitlines()[0][:100]}).") from None
    if not isinstance(data, dict):
        raise MalformedFile(f"{name} is not a catalog (expected 'equipment' and 'documents' lists).")
    raw_equipment = data.get("equipment") or []
    raw_documents = data.get("documents") or []
    if not isinstance(raw_equipment, list) or not isinstance(raw_documents, list):
        raise MalformedFile(f"{name}: 'equipment' and 'documents' must be lists.")
    items: list[Equipment] = []
    for n, entry in enumerate(raw_equipment, start=1):
        label = entry.get("id", n) if isinstance(entry, dict) else n
        try:
            if not isinstance(entry, dict):
                raise InvalidEquipment("it is not a mapping")
            items.append(normalise(Equipment.model_validate({**entry, "document_ids": []})))
        except ValidationError as err:
            raise MalformedFile(f"{name}: equipment entry {label} is invalid ({_validation_sentence(err)}).") from None
        except InvalidEquipment as err:
            raise MalformedFile(f"{name}: equipment entry {label}: {err}") from None
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise MalformedFile(f"{name} lists equipment '{item.id}' twice.")
        seen.add(item.id)
    for n, entry in enumerate(raw_documents, start=1):
        if not isinstance(entry, dict) or not entry.get("path"):
            raise MalformedFile(f"{name}: document entry {n} has no path.")
        if entry.get("kind"):
            try:
                DocumentKind(entry["kind"])
            except ValueError:
                kinds = ", ".join(k.value for k in DocumentKind)
                raise MalformedFile(f"{name}: document {entry['path']} has kind '{entry['kind']}' "
                                    f"(use one of {kinds}).") from None
        equipment = entry.get("equipment") or []
        if isinstance(equipment, str) or not isinstance(equipment, list):
            raise MalformedFile(f"{name}: document {entry['path']}: 'equipment' must be a list of ids.")
    return items, raw_documents


def import_catalog(library: Library, path: Path) -> CatalogImport:
    """Add or update every entry and document a catalog file lists (paths relative to its folder).
    Everything is checked before anything is written; if a document then fails to read, the import
    is undone and MalformedFile names it. Importing the same file again changes nothing."""
    path = Path(path)
    items, entries = read_catalog_file(path)
    ids = {item.id for item in items}
    existing = {e.id: e for e in library.equipment()}
    for item in items:
        check_unique(item, [e for e in existing.values() if e.id not in ids] + items)
    for entry in entries:
        for equipment_id in entry.get("equipment") or []:
            if str(equipment_id) not in ids and str(equipment_id) not in existing:
                raise MalformedFile(f"{path.name}: document {entry['path']} names equipment '{equipment_id}', "
                                    f"which neither the file nor the catalog has.")
        doc_path = path.parent / str(entry["path"])
        if not doc_path.is_file():
            raise MalformedFile(f"{path.name}: document {entry['path']} does not exist.")
    before_docs = {d.id: d for d in library.documents()}
    report = CatalogImport(file=str(path))
    try:
        for item in items:
            library.upsert_equipment(item)
            report.equipment.append(item.id)
        for entry in entries:
            kind = DocumentKind(entry["kind"]) if entry.get("kind") else None
            report.documents.append(library.add(
                path.parent / str(entry["path"]), equipment_ids=[str(e) for e in entry.get("equipment") or []],
                title=entry.get("title"), kind=kind, revision=str(entry.get("revision") or "")))
    except (MalformedFile, UnknownEquipment) as err:
        _undo_import(library, items, existing, before_docs)
        raise MalformedFile(f"{path.name} was not imported: {err}") from None
    return report


def _undo_import(library: Library, items: Sequence[Equipment], existing: dict[str, Equipment],
                 before_docs: dict[str, Document]) -> None:
    for doc in library.documents():
        if doc.id not in before_docs:
            library.remove(doc.id)
        else:
            added = set(doc.equipment_ids) - set(before_docs[doc.id].equipment_ids)
            for equipment_id in added:
                unlink_documents(library, equipment_id, [doc.id])
    for item in items:
        if item.id in existing:
            library.upsert_equipment(existing[item.id])
        else:
            remove_equipment(library, item.id)
