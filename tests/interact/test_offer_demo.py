"""The demo keeps its promises: every code in every mail it sends is a stored offer of that
mail's customer, issued when it went (then redeemed or expired over the demo's history), and
every mail of a playbook with an offer issued exactly one."""

from __future__ import annotations

import email
import re
from email import policy
from pathlib import Path

from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from relmark.interfaces.cli import app

CODE = re.compile(r"\b(?:BACK|THANKS|BDAY|GIFT)-[2-9A-HJ-NP-Z]{8}\b")
ISSUING = {"win-back", "at-risk-discount", "birthday", "vip-gift"}


def test_every_code_the_demo_mails_is_an_issued_offer(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    built = CliRunner().invoke(
        app,
        [
            "demo",
            "--customers",
            "150",
            "--seed",
            "1",
            "--as-of",
            "2026-10-01",
            "--db",
            db,
            "--mail-dir",
            str(tmp_path / "mail"),
            "--no-serve",
        ],
    )
    assert built.exit_code == 0, built.output

    mailed: dict[str, str] = {}
    with_offer = 0
    for path in sorted((tmp_path / "mail").glob("*.eml")):
        mail = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        text_part = str(mail.get_body(("plain",)).get_content())  # type: ignore[union-attr]
        if mail["X-Relmark-Playbook"] in ISSUING:
            with_offer += 1
        for code in CODE.findall(text_part):
            mailed[code] = str(mail["Message-ID"])
    engine = create_engine(db)
    with engine.connect() as connection:
        stored = {
            row.code: row
            for row in connection.execute(
                text(
                    "SELECT o.code, o.status, m.rfc_message_id, m.customer_id AS sent_to, "
                    "o.customer_id FROM offers o JOIN messages m ON m.id = o.message_id"
                )
            )
        }
    engine.dispose()

    assert with_offer > 0
    assert mailed  # the demo's discount mails carry codes
    assert len(stored) == with_offer  # one offer per sent mail of an offer playbook
    for code, message_id in mailed.items():
        assert code in stored, code
        assert stored[code].status in {"issued", "redeemed", "expired"}
        assert stored[code].rfc_message_id == message_id
        assert stored[code].customer_id == stored[code].sent_to
