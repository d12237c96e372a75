"""Errors the fleet server answers with: each carries its HTTP status and one plain sentence."""

from __future__ import annotations

from assistant.errors import FieldlensError


class Refused(FieldlensError):
    """A request the server will not carry out; nothing was changed."""

    status = 400

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status


class NotAllowed(Refused):
    status = 403


class NotFound(Refused):
    status = 404


class Conflict(Refused):
    """The push does not fit what the server holds (a gap or a different event under a known number);
    the body says where the server's copy of the log ends, so the tablet resends from there."""

    status = 409


class TooLarge(Refused):
    status = 413
