"""Errors a user can cause, each with a message a technician understands.

The CLI maps `FieldlensError` to exit status 2 (bad input) and
`ProviderUnavailable` to exit 3 (a required model provider failed and no
fallback was allowed). Messages never contain API keys or tracebacks.
"""

from __future__ import annotations

from assistant import redaction


class FieldlensError(Exception):
    """Base for every error the user can cause. `str(err)` is the one plain sentence shown
    (scrubbed of every known secret)."""

    exit_code = 2

    def __str__(self) -> str:
        return redaction.scrub(super().__str__())


class UnreadablePhoto(FieldlensError):
    """A photo that is missing, empty, not an image, truncated or too large."""


class MalformedFile(FieldlensError):
    """A manual, feed or other input file that cannot be parsed."""


class UnknownDocument(FieldlensError):
    """A document id that is not in the library."""


class UnknownEquipment(FieldlensError):
    """An equipment id that is not in the catalog."""


class InvalidEquipment(FieldlensError):
    """A catalog entry that cannot be saved: a bad id or regex, or a duplicate of another entry."""


class UnknownSession(FieldlensError):
    """A session id that is not in the store."""


class StorageError(FieldlensError):
    """The data folder cannot be read or written (corrupt database, full disk, permissions)."""


class SyncError(FieldlensError):
    """A remote manual feed could not be read or applied."""


class ConfigError(FieldlensError):
    """A setting is invalid (unknown provider, malformed URL ...)."""


class ProviderError(FieldlensError):
    """A model provider failed (network, HTTP status, unusable output)."""

    exit_code = 3


class ProviderUnavailable(ProviderError):
    """A required model provider failed and no fallback to the offline engine was allowed."""

    exit_code = 3
