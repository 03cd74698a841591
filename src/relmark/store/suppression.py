"""The suppression list: salted hashes of erased e-mails and phones.

An erasure removes the values, but a later import or tracking call may bring the same person
back. Without a trace of the erased values relmark could not tell, and would silently create
a marketable profile again. So the erasure keeps HMAC-SHA256(salt, normalised value): not
reversible without the salt (kept in store settings, created once, never shown), enough to
recognise the value when it returns. Such a profile is created restricted, with the reason in
its event log (`customer_suppressed`), and the act in the audit trail.

Values are normalised as identity resolution normalises them (`relmark.contact_keys`), so
`Ana@Example.COM ` and `ana@example.com` are one entry.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import Connection, exists, func, insert, or_, select, text, update

from relmark.enums import EventKind
from relmark.store import audit, kv, restriction
from relmark.store.models import Customer, CustomerEvent, SourceRecord, Suppression

SALT_KEY = "privacy:suppression-salt"
TAIL = "phone_tail"
EXTENSION = re.compile(r"(?:ext\.?|x|#|;ext=)", re.IGNORECASE)
REASON = "the {kind} of an erased customer came back: created restricted"
SUPPRESSION_ACTOR = audit.Actor("engine", "suppression list")


def salt(connection: Connection, now: datetime) -> bytes:
    """The store's salt, created on first use (32 random bytes, hex in store settings)."""
    value = kv.get_setting(connection, SALT_KEY)
    if not value:
        value = secrets.token_hex(32)
        kv.put_setting(connection, SALT_KEY, value, now)
    return bytes.fromhex(str(value))


def keys_of(
    email: str | None, phone: str | None, country: str | None, *, phone_too: bool = True
) -> list[tuple[str, str]]:
    """(kind, normalised value) of a contact's usable e-mail and phone."""
    # imported here: phonenumbers is heavy, and imports only need it once the list has entries
    from relmark.contact_keys import normalize_email, normalize_phone

    found = []
    email_key = normalize_email(email).value
    if email_key:
        found.append(("email", email_key))
    phone_key = normalize_phone(phone, country).value if phone_too else None
    if phone_key:
        found.append(("phone", phone_key))
    return found


def phone_tail(raw: str | None) -> str | None:
    """The last 7 digits of a phone as typed (before any extension): equal for a number in
    national and international form. A cheap prefilter: full normalisation (phonenumbers,
    ~80 µs a number) runs only for numbers whose tail is on the list."""
    if not raw:
        return None
    digits = re.sub(r"\D", "", EXTENSION.split(raw, maxsplit=1)[0])
    return digits[-7:] if len(digits) >= 7 else None


def digest(salt_bytes: bytes, kind: str, value: str) -> str:
    return hasher(salt_bytes)(kind, value)


def hasher(salt_bytes: bytes) -> Callable[[str, str], str]:
    """digest() for many values: the keyed state is built once, then copied per value."""
    base = hmac.new(salt_bytes, digestmod=hashlib.sha256)

    def one(kind: str, value: str) -> str:
        state = base.copy()
        state.update(f"{kind}:{value}".encode())
        return state.hexdigest()

    return one


def suppress(connection: Connection, keys: Iterable[tuple[str, str]], now: datetime) -> int:
    """Add entries for these (kind, normalised value) pairs; known ones are kept once."""
    key_salt = salt(connection, now)
    keys = list(keys)
    keys += [
        (TAIL, tail) for kind, value in keys if kind == "phone" and (tail := phone_tail(value))
    ]
    wanted = {digest(key_salt, kind, value): kind for kind, value in keys}
    if not wanted:
        return 0
    known = set(
        connection.execute(
            select(Suppression.key_hash).where(Suppression.key_hash.in_(list(wanted)))
        ).scalars()
    )
    fresh = [
        {"key_hash": h, "kind": kind, "created_at": now}
        for h, kind in sorted(wanted.items())
        if h not in known
    ]
    if fresh:
        connection.execute(insert(Suppression), fresh)
    return len(fresh)


def profiles_holding(
    connection: Connection, keys: Iterable[tuple[str, str]], excluding: Iterable[int]
) -> list[int]:
    """Live, not erased profiles other than `excluding` whose records carry one of these
    (kind, normalised value) keys: maybe the same person, never merged. Shown to whoever
    erases, not erased with them (a family may share an address)."""
    emails = [value for kind, value in keys if kind == "email"]
    phones = [value for kind, value in keys if kind == "phone"]
    if not emails and not phones:
        return []
    holders = set(
        connection.execute(
            select(SourceRecord.customer_id).where(
                or_(
                    SourceRecord.email_key.in_(emails),
                    func.lower(SourceRecord.email).in_(emails),
                    SourceRecord.phone_key.in_(phones),
                )
            )
        ).scalars()
    )
    live = connection.execute(
        select(Customer.id).where(
            Customer.id.in_(sorted(c for c in holders if c is not None)),
            Customer.merged_into_id.is_(None),
            Customer.erased_at.is_(None),
        )
    ).scalars()
    return sorted(set(live) - set(excluding))


def any_suppressed(connection: Connection) -> bool:
    """Cheap guard: imports skip the check entirely while the list is empty."""
    return bool(connection.execute(select(exists().where(Suppression.id.is_not(None)))).scalar())


def matching_kind(
    connection: Connection, email: str | None, phone: str | None, country: str | None
) -> str | None:
    """'email' or 'phone' when that value is on the list, else None."""
    keys = keys_of(email, phone, country)
    stored = kv.get_setting(connection, SALT_KEY)
    if not keys or not stored:
        return None
    key_salt = bytes.fromhex(str(stored))
    hashes = {digest(key_salt, kind, value): kind for kind, value in keys}
    found = connection.execute(
        select(Suppression.key_hash).where(Suppression.key_hash.in_(list(hashes)))
    ).scalars()
    kinds = sorted({hashes[h] for h in found})
    return kinds[0] if kinds else None


def restrict_returning(
    connection: Connection,
    customer_id: int,
    kind: str,
    now: datetime,
    *,
    via: str,
    actor: audit.Actor = SUPPRESSION_ACTOR,
) -> None:
    """Restrict a profile that carries a suppressed value, and say why (ids only); a profile
    already restricted is left as it is."""
    restricted = connection.execute(
        select(Customer.restricted_at).where(Customer.id == customer_id)
    ).scalar_one_or_none()
    if restricted is not None:
        return
    connection.execute(update(Customer).where(Customer.id == customer_id).values(restricted_at=now))
    restriction.hold_unsent(connection, customer_id)
    reason = REASON.format(kind="e-mail" if kind == "email" else kind)
    connection.execute(
        insert(CustomerEvent).values(
            at=now,
            customer_id=customer_id,
            kind=EventKind.CUSTOMER_SUPPRESSED.value,
            parameters={"reason": reason, "matched": kind, "via": via},
        )
    )
    audit.record(
        connection,
        actor,
        "privacy.suppressed",
        customer_id=customer_id,
        detail={"matched": kind, "via": via},
        at=now,
    )


def restrict_new_from_import(
    connection: Connection, staged: str, now: datetime, *, import_id: int
) -> int:
    """Profiles an import just created (staged rows marked 'insert') that carry a suppressed
    e-mail or phone are restricted; returns how many. The list is read once (it holds one
    or two 64-character hashes per erased value: small beside an import)."""
    stored = kv.get_setting(connection, SALT_KEY)
    if not stored or not any_suppressed(connection):
        return 0
    key_salt = bytes.fromhex(str(stored))
    rows = connection.execute(
        text(
            "SELECT c.id, sr.email, sr.phone, sr.country FROM "  # noqa: S608 - staged is ours
            f'"{staged}" s JOIN source_records sr ON sr.source = s.source '
            "AND sr.external_id = s.external_id JOIN customers c ON c.first_record_id = sr.id "
            "WHERE s._action = 'insert' AND (sr.email IS NOT NULL OR sr.phone IS NOT NULL) "
            "ORDER BY c.id"
        )
    ).all()
    listed = dict(connection.execute(select(Suppression.key_hash, Suppression.kind)).all())
    tails = {h for h, kind in listed.items() if kind == TAIL}
    hash_of = hasher(key_salt)
    wanted: dict[str, list[tuple[int, str]]] = {}
    for customer_id, email, phone, country in rows:
        tail = phone_tail(phone)
        maybe_phone = bool(tails) and tail is not None and hash_of(TAIL, tail) in tails
        for kind, value in keys_of(email, phone, country, phone_too=maybe_phone):
            wanted.setdefault(hash_of(kind, value), []).append((int(customer_id), kind))
    found = set(wanted) & set(listed)
    matched: dict[int, str] = {}
    for key_hash in found:
        for customer_id, kind in wanted[key_hash]:
            matched[customer_id] = min(matched.get(customer_id, kind), kind)  # email first
    for customer_id, kind in sorted(matched.items()):
        restrict_returning(connection, customer_id, kind, now, via=f"import {import_id}")
    return len(matched)
