"""Erasure: remove or irreversibly anonymise one person's personal data in every table.

What stays: the anonymous shell of the profile (its id, country, language, time zone, since
when it is a customer), its orders and order lines, scores, support minutes, message and
event rows with their times and kinds. So revenue, the model's inputs (RFM summary) and
every aggregate are unchanged, while nothing left names, reaches or singles out the person.
The erased e-mails and phones go on the suppression list (store/suppression.py) so they do
not silently come back as a marketable profile.

A merged customer is one person: the erasure covers the live profile and every profile ever
merged into it. The caller owns the transaction; files relmark wrote are cleaned by
`store/erasure_files.py` after the commit.

`store/personal_data.py` is the contract: which column can hold personal data and what
erasure does to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, or_, select, update

from relmark.contact_keys import normalize_email
from relmark.enums import EventKind
from relmark.errors import RelmarkError
from relmark.store import audit, rectification, suppression
from relmark.store.erasure_promises import erase_promises
from relmark.store.live import live_profile
from relmark.store.models import (
    Consent,
    Customer,
    CustomerEvent,
    DemoTruth,
    Mention,
    Merge,
    Message,
    MessageEvent,
    ReviewPair,
    SourceRecord,
    SupportContact,
    TrackedMessage,
)
from relmark.store.personal_data import ERASED, EVIDENCE_WORDS, PERSONAL, SAFE_KEYS


@dataclass
class Erasure:
    """What one erasure did: the profiles it covered and rows changed per table."""

    customer_id: int
    profile_ids: list[int]
    counts: dict[str, int] = field(default_factory=dict)
    needles: set[str] = field(default_factory=set, repr=False)
    """The erased values themselves, in memory only, to clean files relmark wrote: e-mails,
    phones, full names and 'source:external_id' keys, distinctive enough to find anywhere."""
    external_ids: set[str] = field(default_factory=set, repr=False)
    """Found in id columns only (an id such as '5' is also a quantity)."""
    names: set[str] = field(default_factory=set, repr=False)
    """First and last names alone: removed from kept strings, never used to drop file rows
    (others share them)."""

    others: list[int] = field(default_factory=list)
    """Other live profiles with the same e-mail or phone, not erased: for a person to check."""

    def every_value(self) -> set[str]:
        return self.needles | self.external_ids | self.names

    def as_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "profiles": self.profile_ids,
            "same_contact_elsewhere": self.others,
            **self.counts,
        }


def resolve(connection: Connection, reference: str) -> int:
    """The live profile a customer id or an e-mail address names."""
    text = reference.strip()
    if text.isdigit() and len(text) < 19:
        found = connection.execute(select(Customer.id).where(Customer.id == int(text))).first()
        if found is None:
            raise RelmarkError(f"no customer with id {text}")
        return live(connection, int(text))
    key = normalize_email(text).value or text.casefold()
    owners = set(
        connection.execute(
            select(SourceRecord.customer_id).where(
                or_(SourceRecord.email_key == key, func.lower(SourceRecord.email) == key)
            )
        ).scalars()
    ) | set(
        connection.execute(select(Customer.id).where(func.lower(Customer.email) == key)).scalars()
    )
    people = {live(connection, int(c)) for c in owners if c is not None}
    if not people:
        raise RelmarkError("no customer with that e-mail address")
    if len(people) > 1:
        raise RelmarkError(
            "that e-mail address belongs to several customers: "
            + ", ".join(str(p) for p in sorted(people))
            + "; name one by id"
        )
    return people.pop()


def live(connection: Connection, customer_id: int) -> int:
    """Follow merges to the profile that holds the person now."""
    found = live_profile(connection, customer_id)
    if found is None:
        raise RelmarkError(f"no customer with id {customer_id}")
    return found


def profiles_of(connection: Connection, customer_id: int) -> list[int]:
    """The live profile and every profile merged into it, at any depth."""
    group, frontier = {customer_id}, [customer_id]
    while frontier:
        children = set(
            connection.execute(
                select(Customer.id).where(Customer.merged_into_id.in_(frontier))
            ).scalars()
        ) | set(
            connection.execute(
                select(Merge.absorbed_id).where(
                    Merge.survivor_id.in_(frontier), Merge.undone_at.is_(None)
                )
            ).scalars()
        )
        frontier = sorted(children - group)
        group |= children
    return sorted(group)


def erase(
    connection: Connection, customer_id: int, *, actor: audit.Actor, reason: str, now: datetime
) -> Erasure:
    """Erase the person behind `customer_id` (any of their profiles) inside the caller's
    transaction; records the act in the event log and the audit trail."""
    root = live(connection, customer_id)
    ids = profiles_of(connection, root)
    result = Erasure(root, ids)
    records = list(
        connection.execute(
            select(SourceRecord.id).where(SourceRecord.customer_id.in_(ids))
        ).scalars()
    )
    keys = _contact_values(connection, ids, records, result)
    truth_keys = _record_keys(connection, records)  # before the external ids are replaced
    result.needles |= truth_keys
    result.counts["suppressions"] = suppression.suppress(connection, keys, now)
    result.others = suppression.profiles_holding(connection, keys, ids)
    counts = result.counts
    counts["customers"] = _null(connection, Customer, Customer.id.in_(ids), "customers")
    connection.execute(
        update(Customer)
        .where(Customer.id.in_(ids))
        .values(erased_at=now, restricted_at=func.coalesce(Customer.restricted_at, now))
    )
    counts["source_records"] = _null(
        connection, SourceRecord, SourceRecord.id.in_(records), "source_records"
    )
    for record_id in records:
        connection.execute(
            update(SourceRecord)
            .where(SourceRecord.id == record_id)
            .values(external_id=f"{ERASED}-{record_id}", updated_at=now)
        )
    counts["consents"] = _count(
        connection,
        update(Consent)
        .where(or_(Consent.customer_id.in_(ids), Consent.source_record_id.in_(records)))
        .values(proof=ERASED),
    )
    counts["customer_events"] = _scrub_json(
        connection,
        CustomerEvent,
        CustomerEvent.parameters,
        CustomerEvent.customer_id.in_(ids),
        result.every_value(),
    )
    counts["messages"] = _count(
        connection,
        update(Message).where(Message.customer_id.in_(ids)).values(context=None, last_error=None),
    )
    connection.execute(
        update(Message)
        .where(Message.customer_id.in_(ids), Message.status == "planned")
        .values(status="held", reason=ERASED)
    )
    # an erased person is promised nothing any more: their open codes stop working
    counts |= erase_promises(connection, ids, now)
    counts["message_events"] = _scrub_json(
        connection,
        MessageEvent,
        MessageEvent.data,
        MessageEvent.customer_id.in_(ids),
        result.every_value(),
    )
    counts["merges"] = _scrub_evidence(
        connection, Merge, or_(Merge.survivor_id.in_(ids), Merge.absorbed_id.in_(ids))
    )
    counts["review_pairs"] = _scrub_evidence(
        connection, ReviewPair, or_(ReviewPair.customer_a.in_(ids), ReviewPair.customer_b.in_(ids))
    )
    counts["tracked_messages"] = _count(
        connection, delete(TrackedMessage).where(TrackedMessage.customer_id.in_(ids))
    )
    counts["support_contacts"] = _count(
        connection,
        update(SupportContact).where(SupportContact.customer_id.in_(ids)).values(reason=ERASED),
    )
    counts["rectifications"] = rectification.forget(connection, ids)  # pinned values
    counts["mentions"] = _erase_mentions(connection, ids, truth_keys, result.needles)
    counts["demo_truth"] = _erase_truth(connection, truth_keys)
    said = _redact(reason, result.needles | result.names)
    connection.execute(
        CustomerEvent.__table__.insert().values(
            at=now,
            customer_id=root,
            kind=EventKind.CUSTOMER_ERASED.value,
            parameters={"reason": said, "profiles": ids},
        )
    )
    audit.record(
        connection,
        actor,
        "privacy.erase",
        customer_id=root,
        detail={"reason": said, "profiles": ids, "counts": dict(counts)},
        at=now,
    )
    return result


def _contact_values(
    connection: Connection, ids: list[int], records: list[int], result: Erasure
) -> list[tuple[str, str]]:
    """(kind, normalised value) pairs to suppress; fills the result's values to look for."""
    columns = ("email", "phone", "country", "first_name", "last_name")
    rows = [
        *connection.execute(
            select(*(getattr(Customer, c) for c in columns)).where(Customer.id.in_(ids))
        ).all(),
        *connection.execute(
            select(*(getattr(SourceRecord, c) for c in columns)).where(SourceRecord.id.in_(records))
        ).all(),
    ]
    keys: set[tuple[str, str]] = set()
    for email, phone, country, first, last in rows:
        keys |= set(suppression.keys_of(email, phone, country))
        result.needles |= {v.strip() for v in (email, phone) if v and v.strip()}
        result.names |= {v.strip() for v in (first, last) if v and len(v.strip()) >= 2}
        if first and last:
            result.needles.add(f"{first.strip()} {last.strip()}")
    result.needles |= {value for _, value in keys}
    result.needles = {n for n in result.needles if len(n) >= 3}
    result.external_ids = set(
        connection.execute(
            select(SourceRecord.external_id).where(SourceRecord.id.in_(records))
        ).scalars()
    )
    return sorted(keys)


def _count(connection: Connection, statement: Any) -> int:
    return int(connection.execute(statement).rowcount or 0)


def _null(connection: Connection, model: Any, where: Any, table: str) -> int:
    columns = [c for c, how in PERSONAL[table].items() if how == "null"]
    return _count(connection, update(model).where(where).values(dict.fromkeys(columns)))


def _redact(text: str, needles: Iterable[str]) -> str:
    """Free text (a reason, a kept string) without any of the erased values in it."""
    ordered = sorted((n for n in needles if n), key=len, reverse=True)
    if not ordered:
        return text
    return re.sub("|".join(map(re.escape, ordered)), "[erased]", text, flags=re.IGNORECASE)


def _safe(value: Any, needles: set[str]) -> bool:
    if isinstance(value, bool | int | float) or value is None:
        return True
    if not isinstance(value, str) or len(value) > 200:
        return False
    return _redact(value, needles) == value


def _scrub_json(
    connection: Connection, model: Any, column: Any, where: Any, needles: set[str]
) -> int:
    """Keep only SAFE_KEYS with scalar, value-free contents; everything else goes."""
    changed = 0
    for row_id, value in connection.execute(select(model.id, column).where(where)).all():
        if value is None:
            continue
        kept = (
            {k: v for k, v in value.items() if k in SAFE_KEYS and _safe(v, needles)}
            if isinstance(value, dict)
            else {}
        )
        kept[ERASED] = True
        connection.execute(update(model).where(model.id == row_id).values({column.key: kept}))
        changed += 1
    return changed


def _scrub_evidence(connection: Connection, model: Any, where: Any) -> int:
    """Evidence keeps which fields agreed ('same', 'similar'), never the values."""
    changed = 0
    for row_id, evidence in connection.execute(select(model.id, model.evidence).where(where)):
        scrubbed = {
            str(k): v if isinstance(v, str) and v in EVIDENCE_WORDS else ERASED
            for k, v in (evidence or {}).items()
        }
        connection.execute(update(model).where(model.id == row_id).values(evidence=scrubbed))
        changed += 1
    return changed


def _record_keys(connection: Connection, records: list[int]) -> set[str]:
    """'source:external_id' of the person's records, as the demo's truth names them."""
    rows = connection.execute(
        select(SourceRecord.source, SourceRecord.external_id).where(SourceRecord.id.in_(records))
    )
    return {f"{source}:{external_id}" for source, external_id in rows}


def _erase_mentions(
    connection: Connection, ids: list[int], truth_keys: set[str], needles: set[str]
) -> int:
    """Mentions linked to the profiles, attributed to them by the demo's truth, or quoting
    their e-mail or phone."""
    wanted = set(
        connection.execute(select(Mention.id).where(Mention.customer_id.in_(ids))).scalars()
    )
    if truth_keys:
        authored = connection.execute(
            select(DemoTruth.key).where(
                DemoTruth.entity == "mention_author", DemoTruth.truth.in_(sorted(truth_keys))
            )
        ).scalars()
        for key in authored:
            platform, handle, _ = key.split("|", 2)
            wanted |= set(
                connection.execute(
                    select(Mention.id).where(
                        Mention.platform == platform, Mention.author_handle == handle
                    )
                ).scalars()
            )
    for needle in needles:
        if "@" in needle or needle.startswith("+"):
            pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            wanted |= set(
                connection.execute(
                    select(Mention.id).where(Mention.text.ilike(pattern + "%", escape="\\"))
                ).scalars()
            )
    if not wanted:
        return 0
    handles = connection.execute(
        select(Mention.platform, Mention.author_handle).where(Mention.id.in_(sorted(wanted)))
    ).all()
    for platform, handle in set(handles):
        connection.execute(delete(DemoTruth).where(DemoTruth.key.like(f"{platform}|{handle}|%")))
    return _count(
        connection,
        update(Mention)
        .where(Mention.id.in_(sorted(wanted)))
        .values(author_handle=ERASED, text=ERASED),
    )


def _erase_truth(connection: Connection, truth_keys: set[str]) -> int:
    if not truth_keys:
        return 0
    keys = sorted(truth_keys)
    return _count(
        connection,
        delete(DemoTruth).where(or_(DemoTruth.key.in_(keys), DemoTruth.truth.in_(keys))),
    )
