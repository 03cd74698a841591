"""Who may do what: users with roles (dashboard), API keys (integrations), sessions.

Roles, from most to least power: admin (everything, users and keys), marketer (playbooks,
sending, consent), analyst (read everything, run reports and imports), viewer (read). An
`ingest` key may only post to the tracking endpoint. Passwords are hashed with Argon2id;
keys and session tokens are random 256-bit strings of which only a SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from relmark.errors import InvalidInput, RelmarkError
from relmark.store import accounts as store
from relmark.store import audit
from relmark.store.audit import Actor

SESSION_DAYS = 14
_HASHER = PasswordHasher()
#: Each Argon2id hash or check takes 64 MiB: at most this many at once per process, so 40
#: concurrent sign-ins cost 2 x 64 MiB and wait their turn instead of taking 2.5 GB.
MAX_CONCURRENT_HASHES = 2
_HASHING = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)


def _hash(password: str) -> str:
    with _HASHING:
        return _HASHER.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    with _HASHING:
        try:
            return _HASHER.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


#: Verifying against this when the e-mail is unknown keeps both answers equally slow.
_DUMMY_HASH = _hash("relmark: no such user")


class Role(StrEnum):
    ADMIN = "admin"
    MARKETER = "marketer"
    ANALYST = "analyst"
    VIEWER = "viewer"
    INGEST = "ingest"  # keys only: the tracking endpoint


RANK = {Role.VIEWER: 1, Role.ANALYST: 2, Role.MARKETER: 3, Role.ADMIN: 4, Role.INGEST: 0}
USER_ROLES = (Role.ADMIN, Role.MARKETER, Role.ANALYST, Role.VIEWER)


@dataclass(frozen=True)
class Principal:
    """Someone authenticated: a user (by session) or a key."""

    kind: str  # "user" or "key"
    id: int
    name: str
    role: Role
    csrf_token: str | None = None

    def may(self, needed: Role) -> bool:
        if needed is Role.INGEST:
            return self.role is Role.INGEST
        return self.role is not Role.INGEST and RANK[self.role] >= RANK[needed]


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _valid_email(email: str) -> str:
    email = email.strip().lower()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise InvalidInput.single("email", f"{email!r} is not an e-mail address")
    return email


def add_user(engine: Engine, email: str, password: str, role: Role, now: datetime) -> int:
    email = _valid_email(email)
    if role not in USER_ROLES:
        raise InvalidInput.single("role", f"users are {', '.join(USER_ROLES)}; not {role}")
    if len(password) < 10:
        raise InvalidInput.single("password", "must be at least 10 characters")
    try:
        with engine.begin() as connection:
            return store.add_user(connection, email, _hash(password), role.value, now)
    except IntegrityError:
        raise InvalidInput.single("email", f"a user {email} exists already") from None


def authenticate(engine: Engine, email: str, password: str) -> Principal | None:
    """The user if the password is right and the account enabled; None otherwise (same time
    either way). Blocks for up to a few hashes' time: call it from a worker thread."""
    email = email.strip().lower()
    with engine.connect() as connection:
        user = store.user_by_email(connection, email) if "\x00" not in email else None
    if not _verify(user["password_hash"] if user else _DUMMY_HASH, password):
        return None
    if user is None or user["disabled_at"] is not None:
        return None
    if _HASHER.check_needs_rehash(user["password_hash"]):
        with engine.begin() as connection:
            store.set_password_hash(connection, user["id"], _hash(password))
    return Principal("user", user["id"], user["email"], Role(user["role"]))


def create_key(engine: Engine, role: Role, name: str, now: datetime) -> tuple[int, str]:
    """A new key, returned once; the store keeps its hash and first characters."""
    key = "rk_" + secrets.token_urlsafe(32)
    with engine.begin() as connection:
        key_id = store.add_key(
            connection, name=name, prefix=key[:10], key_hash=digest(key), role=role.value, now=now
        )
    return key_id, key


def check_key(engine: Engine, key: str) -> Principal | None:
    with engine.connect() as connection:
        row = store.key_by_hash(connection, digest(key))
    return Principal("key", row["id"], row["name"], Role(row["role"])) if row else None


def start_session(engine: Engine, user: Principal, now: datetime) -> tuple[str, str]:
    """(cookie token, CSRF token) for a signed-in user."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with engine.begin() as connection:
        store.add_session(
            connection,
            token_hash=digest(token),
            user_id=user.id,
            csrf_token=csrf,
            now=now,
            expires_at=now + timedelta(days=SESSION_DAYS),
        )
    return token, csrf


def session(engine: Engine, token: str, now: datetime) -> Principal | None:
    with engine.connect() as connection:
        row = store.session_user(connection, digest(token), now)
    if row is None:
        return None
    return Principal("user", row["id"], row["email"], Role(row["role"]), row["csrf_token"])


def end_session(engine: Engine, token: str) -> None:
    with engine.begin() as connection:
        store.end_session(connection, digest(token))


def _user_id(connection: Connection, email: str) -> int:
    user = store.user_by_email(connection, email.strip().lower())
    if user is None:
        raise InvalidInput.single("email", f"no user {email.strip().lower()}")
    return int(user["id"])


def set_disabled(engine: Engine, email: str, disabled: bool, actor: Actor, now: datetime) -> int:
    """Disable a user (their sessions end in the same transaction, so every open browser is
    signed out at once) or enable them again. Returns the sessions ended."""
    with engine.begin() as connection:
        user_id = _user_id(connection, email)
        store.set_disabled(connection, user_id, now if disabled else None)
        ended = store.end_user_sessions(connection, user_id) if disabled else 0
        action = "user.disable" if disabled else "user.enable"
        detail = {"user_id": user_id, "sessions_ended": ended}
        audit.record(connection, actor, action, detail=detail, at=now)
    return ended


def end_user_sessions(engine: Engine, email: str, actor: Actor, now: datetime) -> int:
    """Sign a user out everywhere (a lost laptop, a shared password); returns how many."""
    with engine.begin() as connection:
        user_id = _user_id(connection, email)
        ended = store.end_user_sessions(connection, user_id)
        detail = {"user_id": user_id, "sessions_ended": ended}
        audit.record(connection, actor, "user.logout", detail=detail, at=now)
    return ended


class Forbidden(RelmarkError):
    """Authenticated, but the role does not allow this."""
