"""`relmark privacy export|rectify`: a customer's rights of access and rectification."""

# Annotations stay evaluated (no __future__ import): see cli_base.

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from relmark.errors import InvalidInput
from relmark.interfaces.cli_base import DbOption, JsonOption, friendly, open_store, out, print_json
from relmark.interfaces.privacy_cli import privacy_app


@privacy_app.command("export")
@friendly
def privacy_export(
    customer: Annotated[str, typer.Argument(help="Customer id or e-mail address.")],
    out_path: Annotated[
        Path, typer.Option("--out", help="The zip file to write (JSON, CSV and a README).")
    ],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Everything relmark holds about a person, as a zip they can read.

    Covers every profile merged into theirs: JSON, one CSV per section, a README in their
    language. The export is recorded in the audit trail.
    """
    from relmark.config import get_settings
    from relmark.interfaces import data_rights
    from relmark.shop_settings import effective_settings
    from relmark.store.audit import Actor

    engine = open_store(db)
    target = out_path.expanduser()
    if target.is_dir():
        raise InvalidInput.single("--out", f"{target} is a folder; name a .zip file")
    if not target.parent.is_dir():
        raise InvalidInput.single("--out", f"the folder {target.parent} does not exist")
    customer_id, content = data_rights.export(
        engine,
        customer,
        Actor.cli(),
        shop=effective_settings(engine, get_settings()).shop_name,
        now=datetime.now(UTC),
        sink=target.write_bytes,
    )
    if as_json:
        print_json({"customer_id": customer_id, "file": str(target), "bytes": len(content)})
        return
    out.print(f"customer {customer_id}: {len(content):,} bytes written to {target}", markup=False)


@privacy_app.command("rectify")
@friendly
def privacy_rectify(
    customer: Annotated[str, typer.Argument(help="Customer id or e-mail address.")],
    changes: Annotated[
        list[str],
        typer.Argument(
            help="FIELD=VALUE pairs: email, phone, first_name, last_name, birthday (YYYY-MM-DD), "
            "language, country, region, city, postcode, address, timezone. FIELD= clears it."
        ),
    ],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Correct a customer's profile; the correction wins over later imports.

    Values are checked as an import checks them; each correction is logged as a customer
    event and in the audit trail (field names only).
    """
    from relmark.interfaces import data_rights
    from relmark.store.audit import Actor

    engine = open_store(db)
    parsed = data_rights.parse_pairs(changes)
    customer_id, changed = data_rights.rectify(
        engine, customer, parsed, Actor.cli(), datetime.now(UTC)
    )
    if as_json:
        print_json({"customer_id": customer_id, "changed": changed})
        return
    if changed:
        out.print(f"customer {customer_id}: rectified {', '.join(changed)}", markup=False)
    else:
        out.print(f"customer {customer_id}: nothing to change (the values are already so)")
