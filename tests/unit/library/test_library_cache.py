"""Offline cache: originals kept and verified, page images rendered once and reopened fast,
LRU eviction under a size cap that never touches what the index needs."""

from __future__ import annotations

import time

import pytest
from conftest import make_drive_manual
from PIL import Image

from assistant.errors import StorageError, UnknownDocument
from assistant.library import Library


def test_page_image_render_then_cached(lib, docs):
    doc = lib.add(docs / "vx9-manual.pdf")
    start = time.perf_counter()
    first = lib.page_image(doc.id, 2, width=900)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    second = lib.page_image(doc.id, 2, width=900)
    warm = time.perf_counter() - start
    assert first == second and first.exists()
    with Image.open(second) as image:
        assert image.format == "PNG" and image.width == 900 and image.height > 1000
    assert warm < cold  # reopening does not render again
    with pytest.raises(UnknownDocument, match="no page 3"):
        lib.page_image(doc.id, 3)
    with pytest.raises(UnknownDocument):
        lib.page_image("missing", 1)
    md = lib.add(docs / "rs5-guide.md")
    with pytest.raises(UnknownDocument, match="no pages"):
        lib.page_image(md.id, 1)


def test_original_is_kept_and_verified(lib, docs, tmp_path):
    source = tmp_path / "m.pdf"
    source.write_bytes((docs / "vx9-manual.pdf").read_bytes())
    doc = lib.add(source)
    source.unlink()  # the cache keeps working without the source
    original = lib.original_file(doc.id)
    assert original.read_bytes()[:5] == b"%PDF-"
    assert lib.page_image(doc.id, 1).exists()
    data = bytearray(original.read_bytes())
    data[200] ^= 0xFF
    original.write_bytes(bytes(data))
    with pytest.raises(StorageError, match="damaged"):
        lib.original_file(doc.id)


def test_eviction_keeps_originals(tmp_path):
    lib = Library(tmp_path / "lib", cache_limit_bytes=400_000)
    try:
        docs = [lib.add(make_drive_manual(tmp_path / f"m{n}.pdf", revision=str(n))) for n in range(3)]
        paths = []
        for doc in docs:
            for page in (1, 2):
                paths.append(lib.page_image(doc.id, page, width=1400))
        assert lib.cache.volume() <= 400_000 * 2
        assert not all(p.exists() for p in paths)  # older renders were evicted
        for doc in docs:
            assert lib.original_file(doc.id).exists()  # originals are never evicted
            assert lib.page_image(doc.id, 1).exists()  # and evicted pages come back on demand
    finally:
        lib.close()


def test_changed_file_drops_old_original(lib, tmp_path):
    path = make_drive_manual(tmp_path / "m.pdf")
    doc = lib.add(path)
    old = lib.original_file(doc.id)
    make_drive_manual(path, overcurrent_remedy="Something else")
    lib.add(path)
    assert not old.exists() and lib.original_file(doc.id).exists()


def test_reopen_library(tmp_path, docs):
    with Library(tmp_path / "lib") as lib:
        doc = lib.add(docs / "rs5-guide.md")
    with Library(tmp_path / "lib") as lib:
        assert lib.document(doc.id).title == "Compressor RS-5 service guide"
        assert lib.search("oil filter")[0].doc_id == doc.id


def test_moved_library_reads_its_own_originals(tmp_path, docs):
    """A library folder moved (or restored from a backup) elsewhere opens its own cached copies,
    not the paths recorded where it used to be."""
    old_root, new_root = tmp_path / "old" / "lib", tmp_path / "new" / "lib"
    with Library(old_root) as lib:
        doc = lib.add(docs / "vx9-manual.pdf")
        recorded = lib.original_file(doc.id)
    old_root.parent.rename(tmp_path / "new")
    assert not recorded.exists()
    with Library(new_root) as lib:
        original = lib.original_file(doc.id)
        assert original.is_relative_to(new_root) and original.read_bytes()[:5] == b"%PDF-"
        assert lib.page_image(doc.id, 1).exists()
        lib.remove(doc.id)
        assert not original.exists()  # the moved copy is the one dropped with the document
