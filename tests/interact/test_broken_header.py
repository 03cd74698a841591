"""A sender or name with a line break no setting may hold (NEL, LS, PS included) is refused
where it is set; one that reaches the sender anyway (the environment is not checked) fails
each message in words instead of aborting the run with a message stuck in `sending`."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from relmark import shop_settings
from relmark.config import Settings
from relmark.errors import InvalidInput
from relmark.interact.delivery import SendOptions, SmtpTransport
from relmark.interact.sink import MailSink
from relmark.interaction import Interaction

from .conftest import SECRET, Shop
from .test_shop_sender import AS_OF, THANKS, customer_with_order


@pytest.mark.parametrize("brk", ["\x85", "\u2028", "\u2029", "\r"])
def test_a_line_break_in_the_sender_is_refused(shop: Shop, brk: str) -> None:
    with pytest.raises(InvalidInput, match="smtp_from"):
        shop_settings.change(shop.engine, {"smtp_from": f"Brew{brk}Co <hello@brew.example>"}, AS_OF)


def test_a_broken_sender_fails_each_message_and_the_run_goes_on(shop: Shop, tmp_path: Path) -> None:
    books = tmp_path / "books"
    books.mkdir()
    (books / "thanks.toml").write_text(THANKS, encoding="utf-8")
    broken = Settings(secret_key=SECRET, smtp_from="Brew\x85Co <hello@brew.example>")
    relmark = Interaction(shop.engine, broken, playbooks_dir=books)
    customer_with_order(shop, 1)
    customer_with_order(shop, 2)
    relmark.plan(AS_OF, AS_OF)
    with MailSink(tmp_path / "mail") as sink:
        transports = {"email": SmtpTransport(host="127.0.0.1", port=sink.port)}
        report = relmark.send(SendOptions(as_of=lambda: AS_OF), transports=transports)
    assert report.failed == 2
    with shop.engine.connect() as connection:
        statuses = connection.execute(text("SELECT status FROM messages")).scalars().all()
    assert statuses == ["failed", "failed"]
