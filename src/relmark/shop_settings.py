"""The shop's own settings (name, addresses, URLs, currency, zone, logo), kept in the store.

A shop changes its name or sender without touching the server's environment: `relmark
settings set`, or the dashboard's settings page, writes them to the store's key-value table
(keys `shop:<name>`). The EFFECTIVE value of each is, in order: an environment variable
(RELMARK_…; an operator's deliberate override), else the store's value, else the default;
`effective` says for each where it came from. Every reader (the web server, the engine, each
message) goes through here, so all of them agree.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import getaddresses
from functools import cache
from typing import Any, Literal
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine

from relmark.config import Settings
from relmark.errors import InvalidInput, Problem
from relmark.store import audit
from relmark.store.audit import Actor
from relmark.store.kv import delete_setting, put_setting, settings_with_prefix

PREFIX = "shop:"
Kind = Literal["text", "url", "address", "currency", "zone"]
Source = Literal["env", "store", "default"]


@dataclass(frozen=True)
class Field:
    """One shop setting: its key (also the Settings attribute) and what a value must be."""

    key: str
    kind: Kind
    label: str

    @property
    def env(self) -> str:
        return f"RELMARK_{self.key.upper()}"


FIELDS: dict[str, Field] = {
    f.key: f
    for f in (
        Field("shop_name", "text", "Shop name"),
        Field("public_url", "url", "Public URL of relmark"),
        Field("shop_url", "url", "Shop URL"),
        Field("smtp_from", "address", "Sender (From)"),
        Field("reply_to", "address", "Reply-To address"),
        Field("currency", "currency", "Default currency"),
        Field("timezone", "zone", "Default time zone"),
        Field("logo_url", "url", "Logo URL"),
        Field("offers_webhook_url", "url", "Offers webhook URL"),
    )
}
MAX_LENGTH = 500
#: Control characters and every line break `str.splitlines` knows (NEL, LS, PS too): any
#: of them in a sender or name would break the mail's headers.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\".]+(\.[^@\s<>,;\".]+)+")


@dataclass(frozen=True)
class Value:
    key: str
    value: str | None
    source: Source
    stored: str | None
    """The store's value even when the environment overrides it (shown, not used)."""


def known(key: str) -> Field:
    field = FIELDS.get(key.strip().lower().replace("-", "_"))
    if field is None:
        raise InvalidInput.single(
            key or "(empty key)", f"no such shop setting; known: {', '.join(FIELDS)}"
        )
    return field


def validate(key: str, value: str) -> str:
    """The value as it will be kept, or InvalidInput naming the key and why not."""
    field = known(key)
    reason = _problem(field, value.strip())
    if reason is not None:
        raise InvalidInput.single(field.key, reason)
    return normalise(field, value)


def normalise(field: Field, value: str) -> str:
    value = value.strip()
    return value.upper() if field.kind == "currency" else value


def _problem(field: Field, value: str) -> str | None:
    """Why `value` cannot be `field`, in words a shop owner understands (None: it can)."""
    if not value:
        return "is empty (use unset to go back to the default)"
    if len(value) > MAX_LENGTH:
        return f"is {len(value)} characters long; at most {MAX_LENGTH}"
    if _CONTROL.search(value):
        return "contains a line break or another control character"
    if field.kind == "url":
        parts = urlsplit(value)
        if parts.scheme.lower() not in ("http", "https"):
            return f"{value!r} is not a web address: it must start with http:// or https://"
        if not parts.hostname or " " in value:
            return f"{value!r} has no host name (like https://shop.example)"
        if "@" in parts.netloc:
            # A name and password in a link would go out in every message to every customer.
            return (
                "contains a user name or password before the host (user:pass@…); links go "
                "to every customer: give the address without them"
            )
    elif field.kind == "address":
        parsed = getaddresses([value])
        if len(parsed) != 1 or not _ADDRESS.fullmatch(parsed[0][1]):
            return f"{value!r} is not one e-mail address (like Shop <hello@shop.example>)"
    elif field.kind == "currency":
        if value.upper() not in _currencies():
            return f"{value!r} is not an ISO 4217 currency code (like EUR, USD, MYR)"
    elif field.kind == "zone" and value not in _zones():
        hint = next((z for z in _zones() if z.lower() == value.lower()), None)
        suggestion = f" (did you mean {hint}?)" if hint else " (like Europe/Ljubljana)"
        return f"{value!r} is not an IANA time zone{suggestion}"
    return None


@cache
def _currencies() -> frozenset[str]:
    from babel.numbers import list_currencies

    return frozenset(list_currencies())


@cache
def _zones() -> frozenset[str]:
    from zoneinfo import available_timezones

    return frozenset(available_timezones())


def _default(field: Field) -> str | None:
    default = Settings.model_fields[field.key].default
    return None if default is None else str(default)


def resolve(base: Settings, stored: Mapping[str, Any]) -> list[Value]:
    """Each setting's effective value: set in `base` from the environment (or by the caller),
    else the store's, else the default. A stored value that no longer validates (a zone a
    newer tz database dropped) is passed over rather than breaking every message."""
    chosen = base.model_fields_set
    values = []
    for field in FIELDS.values():
        kept = stored.get(PREFIX + field.key)
        kept = kept if isinstance(kept, str) and _problem(field, kept) is None else None
        if field.key in chosen:
            current = getattr(base, field.key)
            values.append(Value(field.key, current, "env", kept))
        elif kept is not None:
            values.append(Value(field.key, kept, "store", kept))
        else:
            values.append(Value(field.key, _default(field), "default", None))
    return values


def read(connection: Connection, base: Settings) -> list[Value]:
    return resolve(base, settings_with_prefix(connection, PREFIX))


def effective(engine: Engine, base: Settings) -> list[Value]:
    with engine.connect() as connection:
        return read(connection, base)


def apply(base: Settings, values: list[Value]) -> Settings:
    """`base` with the effective shop values: what every other module reads."""
    return base.model_copy(update={v.key: v.value for v in values if v.source == "store"})


def effective_settings(engine: Engine, base: Settings) -> Settings:
    return apply(base, effective(engine, base))


def check(changes: Mapping[str, str | None]) -> dict[str, str | None]:
    """The changes as they will be kept (None: remove), or InvalidInput naming every bad key
    and why: one bad value and nothing is saved."""
    problems: list[Problem] = []
    cleaned: dict[str, str | None] = {}
    for key, value in changes.items():
        try:
            field = known(key)
        except InvalidInput as exc:
            problems.extend(exc.problems)
            continue
        reason = None if value is None else _problem(field, value.strip())
        if reason is not None:
            problems.append(Problem(field.key, reason))
        else:
            cleaned[field.key] = None if value is None else normalise(field, value)
    if problems:
        raise InvalidInput(problems)
    return cleaned


def change(
    engine: Engine,
    changes: Mapping[str, str | None],
    now: datetime,
    actor: Actor | None = None,
) -> list[str]:
    """Save (a value) or remove (None) each setting, all or nothing, with one audit entry
    naming the keys (values stay out of the trail, like every other entry). Returns the keys
    whose stored value changed."""
    cleaned = check(changes)
    with engine.begin() as connection:
        before = settings_with_prefix(connection, PREFIX)
        changed = []
        for key, value in cleaned.items():
            if before.get(PREFIX + key) == value:
                continue
            if value is None:
                delete_setting(connection, PREFIX + key)
            else:
                put_setting(connection, PREFIX + key, value, now)
            changed.append(key)
        if changed:
            audit.record(
                connection,
                actor or Actor.cli(),
                "settings.change",
                detail={"keys": sorted(changed)},
                at=now,
            )
    return changed


class LiveSettings:
    """The effective settings of a long-running process (the web server), re-read from the
    store at most every `ttl` seconds: a `relmark settings set` shows within that time,
    without a restart, and a busy server does not query the store per request."""

    def __init__(self, engine: Engine, base: Settings, ttl: float = 2.0) -> None:
        self.engine = engine
        self.base = base
        self.ttl = ttl
        self.lock = threading.Lock()
        self.settings = base
        self.read_at: float | None = None

    def stale(self) -> bool:
        return self.read_at is None or time.monotonic() - self.read_at >= self.ttl

    def refresh(self) -> Settings:
        """Re-read the store now (blocking: call it off the event loop)."""
        settings = effective_settings(self.engine, self.base)
        with self.lock:
            self.settings, self.read_at = settings, time.monotonic()
        return settings

    def current(self) -> Settings:
        return self.refresh() if self.stale() else self.settings
