"""A customer's rights of access and rectification, as the CLI, the API and the dashboard
offer them: find the person, check the input as the importer would, call the store, and
write the archive (JSON + CSV + a README in the customer's language).

Composition lives here (interfaces may use both ingest and the store); the store modules
`subject_access` and `rectification` hold the domain logic.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, select

from relmark.csvsafe import write_rows
from relmark.errors import InvalidInput, Problem, RelmarkError
from relmark.interfaces.access_readme import readme, readme_language
from relmark.store import rectification, subject_access
from relmark.store.audit import Actor
from relmark.store.models import Customer


def cell_text(value: Any) -> str:
    """A value as the text of one CSV cell (neutralised by `csvsafe` when it is written)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _csv(rows: list[dict[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    buffer = io.StringIO()
    write_rows(buffer, columns, ([cell_text(row.get(c)) for c in columns] for row in rows))
    return buffer.getvalue()


def resolve(connection: Any, reference: str) -> int:
    """The live profile of a customer id or e-mail; a clear error when there is none."""
    found = subject_access.find(connection, reference)
    if found is None:
        raise RelmarkError(f"no customer with id or e-mail {reference!r}")
    return found


def archive(
    data: dict[str, list[dict[str, Any]]], customer_id: int, shop: str, now: datetime
) -> bytes:
    """The zip: data.json (every section), one CSV per section, README.txt."""
    profiles = data["profiles"]
    live = next((p for p in profiles if p["id"] == customer_id), profiles[0] if profiles else {})
    language = readme_language(live.get("language"))
    files = {name: f"{name}.csv" for name in data}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        document = {
            "customer_id": customer_id,
            "generated_at": now.isoformat(),
            "profile_ids": [p["id"] for p in profiles],
            "sections": data,
        }
        bundle.writestr(
            "data.json", json.dumps(document, ensure_ascii=False, indent=2, default=_json_default)
        )
        for name, rows in data.items():
            # UTF-8 with a byte-order mark: spreadsheets then read Cyrillic and accents right
            bundle.writestr(files[name], "\ufeff" + _csv(rows))
        bundle.writestr(
            "README.txt",
            readme(
                language,
                shop=shop,
                when=now.strftime("%Y-%m-%d %H:%M"),
                customer_ids=[p["id"] for p in profiles],
                counts={name: len(rows) for name, rows in data.items()},
                files=files,
            ),
        )
    return buffer.getvalue()


def export(
    engine: Engine,
    reference: str | int,
    actor: Actor,
    *,
    shop: str,
    now: datetime,
    sink: Callable[[bytes], None] | None = None,
) -> tuple[int, bytes]:
    """(live customer id, zip bytes). The audit entry commits only if `sink` (which writes
    the file, when given) succeeds: an export that failed is not claimed."""
    with engine.begin() as connection:
        customer_id = resolve(connection, str(reference))
        data = subject_access.export(connection, customer_id, actor)
        content = archive(data, customer_id, shop, now)
        if sink is not None:
            sink(content)
    return customer_id, content


def check_changes(changes: dict[str, str], country: str | None, today: date) -> dict[str, Any]:
    """Typed values for `field → text`, validated as the importer validates a customers
    file; an e-mail or phone must also be usable (it is stored as its normalised key). An
    empty text clears the field."""
    import polars as pl

    from relmark.identify.normalize import normalize_email, normalize_phone
    from relmark.ingest.contracts import CUSTOMERS
    from relmark.ingest.readers import LINE
    from relmark.ingest.validate import Context, check

    unknown = sorted(set(changes) - set(rectification.FIELDS))
    if unknown:
        raise InvalidInput.single(
            "rectify",
            f"cannot rectify {', '.join(unknown)}; fields: {', '.join(rectification.FIELDS)}",
        )
    if not changes:
        raise InvalidInput.single("rectify", "name at least one FIELD=VALUE")
    frame = pl.DataFrame({LINE: [1], **{k: [v] for k, v in changes.items()}})
    checked = check(frame, CUSTOMERS, Context("EUR", "UTC", today))
    problems = [
        Problem("rectify", str(p["message"]), column=p["column"])
        for p in checked.problems.to_dicts()
    ]
    values = {k: checked.frame[k][0] for k in changes}
    if values.get("email") is not None:
        key = normalize_email(values["email"])
        if key.value is None:
            problems.append(
                Problem("rectify", f"{values['email']!r}: {key.problem}", None, "email")
            )
        values["email"] = key.value
    if values.get("phone") is not None:
        key = normalize_phone(values["phone"], values.get("country") or country)
        if key.value is None:
            problems.append(
                Problem("rectify", f"{values['phone']!r}: {key.problem}", None, "phone")
            )
        values["phone"] = key.value
    if problems:
        raise InvalidInput(problems)
    return values


def parse_pairs(pairs: list[str]) -> dict[str, str]:
    """`field=value` arguments → a mapping (the value may contain '=')."""
    changes: dict[str, str] = {}
    for pair in pairs:
        field, sep, value = pair.partition("=")
        if not sep or not field.strip():
            raise InvalidInput.single("rectify", f"{pair!r} is not FIELD=VALUE")
        changes[field.strip()] = value
    return changes


def rectify(
    engine: Engine, reference: str | int, changes: dict[str, str], actor: Actor, now: datetime
) -> tuple[int, list[str]]:
    """Correct the live profile of `reference`; (customer id, fields that changed)."""
    with engine.begin() as connection:
        customer_id = resolve(connection, str(reference))
        country = connection.execute(
            select(Customer.country).where(Customer.id == customer_id)
        ).scalar()
        values = check_changes(changes, country, now.date())
        return customer_id, rectification.rectify(connection, customer_id, values, actor, now)
