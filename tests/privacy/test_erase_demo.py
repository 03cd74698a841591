"""Erasure on the demo store, which writes files (CSV export, filed e-mails) and holds what
imports alone do not: mentions, support contacts and the generator's truth."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from relmark.config import get_settings
from relmark.interfaces.cli import app
from relmark.store.db import make_engine

from .test_erasure import dump

runner = CliRunner()


@pytest.fixture
def own_mail_sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The demo files its messages itself only without a configured SMTP server; settings
    are read once per process, so an earlier test's server must be forgotten."""
    monkeypatch.delenv("RELMARK_SMTP_HOST", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("own_mail_sink")
def test_erasing_a_demo_customer_cleans_the_store_and_the_files_it_wrote(tmp_path: Path) -> None:
    # given a small demo store with its CSV export and its filed messages
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    csv_dir, mail_dir = tmp_path / "csv", tmp_path / "mail"
    built = runner.invoke(
        app,
        ["demo", "--customers", "60", "--as-of", "2026-11-20", "--no-serve", "--json"]
        + ["--db", url]
        + ["--export-dir", str(csv_dir), "--mail-dir", str(mail_dir)],
    )
    assert built.exit_code == 0, built.output
    engine = make_engine(url)
    with engine.connect() as connection:
        # a customer who posted a mention, and one who was sent a message (the demo's
        # control groups are drawn with the store's random secret: maybe not the same one)
        author = connection.execute(
            text(
                "SELECT c.id, c.email, sr.external_id, m.author_handle FROM demo_truth t "
                "JOIN source_records sr ON t.truth = sr.source || ':' || sr.external_id "
                "JOIN customers c ON c.id = sr.customer_id JOIN mentions m "
                "ON t.key LIKE m.platform || '|' || m.author_handle || '|%' "
                "WHERE t.entity = 'mention_author' ORDER BY c.id LIMIT 1"
            )
        ).one()
        recipient = connection.execute(
            text(
                "SELECT c.id, c.email, sr.external_id, NULL FROM messages s JOIN customers c "
                "ON c.id = s.customer_id JOIN source_records sr ON sr.customer_id = c.id "
                "WHERE s.status = 'sent' AND sr.source = 'web' ORDER BY c.id LIMIT 1"
            )
        ).one()
    people = [author, recipient]
    assert any(author[1] in p.read_text(errors="replace") for p in csv_dir.iterdir())
    assert any(recipient[1] in p.read_text(errors="replace") for p in mail_dir.iterdir())

    # when both are erased from the command line
    for customer_id, *_ in people:
        erased = runner.invoke(app, ["privacy", "erase", str(customer_id), "--yes", "--db", url])
        assert erased.exit_code == 0, erased.output

    # then neither the store nor any file the demo wrote holds their e-mail, id or handle
    after = dump(engine)
    for _, email, external_id, handle in people:
        for value in (email, f"web:{external_id}", handle):
            assert value is None or value not in after
        for path in [*csv_dir.iterdir(), *mail_dir.iterdir()]:
            content = path.read_text(errors="replace")
            assert email not in content, path
            assert f"web:{external_id}," not in content, path
            assert f",{external_id}," not in content, path
    engine.dispose()
