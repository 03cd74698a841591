"""Users, API keys and browser sessions in the store (hashes only, never secrets)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from relmark.store.models import ApiKey, User, WebSession


def add_user(
    connection: Connection, email: str, password_hash: str, role: str, now: datetime
) -> int:
    return int(
        connection.execute(
            insert(User)
            .values(email=email, password_hash=password_hash, role=role, created_at=now)
            .returning(User.id)
        ).scalar_one()
    )


def user_by_email(connection: Connection, email: str) -> dict[str, Any] | None:
    row = connection.execute(select(User).where(User.email == email)).mappings().first()
    return dict(row) if row else None


def set_password_hash(connection: Connection, user_id: int, password_hash: str) -> None:
    connection.execute(update(User).where(User.id == user_id).values(password_hash=password_hash))


def set_disabled(connection: Connection, user_id: int, disabled_at: datetime | None) -> None:
    connection.execute(update(User).where(User.id == user_id).values(disabled_at=disabled_at))


def end_user_sessions(connection: Connection, user_id: int) -> int:
    """Every session of the user ends; returns how many there were."""
    result = connection.execute(delete(WebSession).where(WebSession.user_id == user_id))
    return int(result.rowcount or 0)


def users(connection: Connection) -> list[dict[str, Any]]:
    rows = connection.execute(
        select(User.id, User.email, User.role, User.created_at, User.disabled_at).order_by(User.id)
    )
    return [dict(r) for r in rows.mappings()]


def add_key(
    connection: Connection, *, name: str, prefix: str, key_hash: str, role: str, now: datetime
) -> int:
    return int(
        connection.execute(
            insert(ApiKey)
            .values(name=name, prefix=prefix, key_hash=key_hash, role=role, created_at=now)
            .returning(ApiKey.id)
        ).scalar_one()
    )


def key_by_hash(connection: Connection, key_hash: str) -> dict[str, Any] | None:
    row = (
        connection.execute(
            select(ApiKey).where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def keys(connection: Connection) -> list[dict[str, Any]]:
    rows = connection.execute(
        select(
            ApiKey.id, ApiKey.name, ApiKey.prefix, ApiKey.role, ApiKey.created_at, ApiKey.revoked_at
        ).order_by(ApiKey.id)
    )
    return [dict(r) for r in rows.mappings()]


def revoke_key(connection: Connection, key_id: int, now: datetime) -> bool:
    result = connection.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount == 1


def add_session(
    connection: Connection,
    *,
    token_hash: str,
    user_id: int,
    csrf_token: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    connection.execute(
        insert(WebSession).values(
            token_hash=token_hash,
            user_id=user_id,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=expires_at,
        )
    )


def session_user(connection: Connection, token_hash: str, now: datetime) -> dict[str, Any] | None:
    row = (
        connection.execute(
            select(User.id, User.email, User.role, WebSession.csrf_token)
            .join(WebSession, WebSession.user_id == User.id)
            .where(
                WebSession.token_hash == token_hash,
                WebSession.expires_at > now,
                User.disabled_at.is_(None),
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def end_session(connection: Connection, token_hash: str) -> None:
    connection.execute(delete(WebSession).where(WebSession.token_hash == token_hash))
