"""API tokens of the fleet server: created once (the token is shown once and stored only as its
sha256), listed, revoked; and the check every request goes through.

Owns: the `fleet_tokens` table, roles and what each may do. A token is 256 random bits, so an
unsalted sha256 is enough to store it (nothing to brute-force). Each token also yields a read-only
*feed key* (a hash of the token) that goes in the manual feed's URL, for mirror clients that cannot
send an Authorization header; it can read the feed and nothing else, and dies with its token.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from assistant.domain import utc_now
from assistant.server import schema
from assistant.server.errors import Refused
from assistant.sessions import events as ev

T = schema.tokens
TOKEN_PREFIX = "flt_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")


class Role(StrEnum):
    DEVICE = "device"  # pushes and reads only its own sessions, reads the feed
    SUPERVISOR = "supervisor"  # reads every session, writes reviews
    ADMIN = "admin"  # everything a supervisor can, plus tokens and the library


@dataclass(frozen=True)
class Caller:
    name: str
    role: Role

    @property
    def device(self) -> str | None:
        """The device whose sessions alone this caller may see (None: every session)."""
        return self.name if self.role == Role.DEVICE else None


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def feed_key(token: str) -> str:
    """The read-only feed key a token yields (computed the same way on tablet and server)."""
    return hashlib.sha256(("fieldlens-feed:" + token).encode("utf-8")).hexdigest()[:40]


class TokenStore:
    def __init__(self, engine):
        self.engine = engine

    def create(self, name: str, role: Role | str) -> str:
        """A new token for `name`; returns it (the only time it is ever shown)."""
        name = (name or "").strip()
        if not _NAME.match(name):
            raise Refused("A token name is 1-100 letters, digits, '.', '_', '@' or '-', starting with a letter "
                          "or digit.")
        try:
            role = Role(role)
        except ValueError:
            raise Refused(f"The role must be device, supervisor or admin (got {role!r}).") from None
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(T).values(name=name, role=str(role), token_hash=hash_secret(token),
                                              feed_hash=hash_secret(feed_key(token)),
                                              created_at=ev.naive_utc(utc_now())))
        except IntegrityError:
            raise Refused(f"A token named {name} already exists (names stay taken after a revoke).", 409) from None
        return token

    def list(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(T.c.name, T.c.role, T.c.created_at, T.c.revoked_at).order_by(T.c.name)).all()
        return [{"name": r.name, "role": r.role, "created_at": ev.as_utc(r.created_at).isoformat(),
                 "revoked_at": ev.as_utc(r.revoked_at).isoformat() if r.revoked_at else None} for r in rows]

    def revoke(self, name: str) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(update(T).where(T.c.name == name, T.c.revoked_at.is_(None))
                                .values(revoked_at=ev.naive_utc(utc_now()))).rowcount
            if not done:
                exists = conn.execute(select(T.c.name).where(T.c.name == name)).first() is not None
                raise Refused(f"The token {name} is already revoked." if exists else f"No token is named {name}.",
                              404 if not exists else 409)

    def check(self, token: str) -> Caller | None:
        """The caller a bearer token belongs to, or None (unknown or revoked)."""
        if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(T.c.name, T.c.role).where(T.c.token_hash == hash_secret(token),
                                                                T.c.revoked_at.is_(None))).first()
        return Caller(row.name, Role(row.role)) if row else None

    def check_feed_key(self, key: str) -> Caller | None:
        if not key or len(key) > 100:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(T.c.name, T.c.role).where(T.c.feed_hash == hash_secret(key),
                                                                T.c.revoked_at.is_(None))).first()
        return Caller(row.name, Role(row.role)) if row else None
