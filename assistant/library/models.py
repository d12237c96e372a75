"""Small pydantic models the library returns besides the shared domain types:
outline entries, per-page information, and sync progress and reports."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OutlineEntry(_Model):
    """One heading of a document, in reading order."""

    section: str = Field(description="heading path, outermost first, joined by ' > '")
    title: str = Field(description="the heading's own text (last element of the path)")
    level: int = Field(description="1 for top-level sections")
    page: int | None = None
    passage_id: str | None = Field(None, description="first passage under this heading")


class PageInfo(_Model):
    """What ingest learned about one page: how it was read and how sure the read is."""

    page: int
    chars: int
    ocr: bool = False
    confidence: float | None = Field(None, description="mean OCR confidence 0..1 for scanned pages")


class SyncProgress(_Model):
    """Emitted while a feed is mirrored; `stage` is one of feed, check, download, verify, ingest, done, failed."""

    stage: str
    doc: str = Field("", description="document title or URL being worked on")
    index: int = 0
    count: int = 0
    bytes_done: int = 0
    bytes_total: int | None = None
    message: str = ""


class SyncFailure(_Model):
    url: str
    title: str = ""
    reason: str


class SyncReport(_Model):
    """What a sync did. `offline` is true when the feed itself could not be reached:
    the library was left exactly as it was."""

    feed: str
    added: list[str] = Field(default_factory=list, description="document ids")
    updated: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    failed: list[SyncFailure] = Field(default_factory=list)
    equipment: list[str] = Field(default_factory=list, description="equipment ids created or updated")
    feed_unchanged: bool = Field(False, description="the feed answered 304 Not Modified")
    offline: bool = False
    error: str | None = Field(None, description="why the feed could not be used, if it could not")
    bytes_downloaded: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failed
