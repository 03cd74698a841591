"""Playbook files: the shipped set loads, and mistakes are reported with file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from relmark.errors import InvalidInput
from relmark.interact.playbook import TriggerKind, load_playbooks, parse_playbook
from relmark.interact.templating import shipped
from relmark.interfaces.cli import app

from ..helpers import new_store

GOOD = """
name = "thanks"
title = "Thanks"
purpose = "service"
template = "thank_you"
[trigger]
on = "order"
delay_days = 3
"""


def test_the_shipped_playbooks_cover_the_relationship() -> None:
    books = {b.name: b for b in load_playbooks()}
    assert set(books) == {
        "thank-you",
        "satisfaction",
        "howto",
        "birthday",
        "anniversary",
        "win-back",
        "vip-gift",
        "at-risk-discount",
        "referral",
    }
    assert books["thank-you"].trigger.delay_days == 3
    assert books["satisfaction"].trigger.delay_days == 7
    assert books["howto"].trigger.on is TriggerKind.FIRST_PURCHASE_WITH_HOWTO
    assert books["howto"].trigger.delay_days == 1
    assert books["vip-gift"].repeat_after_days >= 90  # at most quarterly
    assert books["win-back"].audience[0].max_p_alive == 0.3
    assert {b.cost for b in books.values() if b.name in ("vip-gift", "at-risk-discount")} == {
        "high"
    }
    assert len(books["referral"].audience) == 2  # champions, or promoters
    templates = set(shipped().names())
    assert all(b.template in templates for b in books.values())


def test_a_valid_playbook_parses() -> None:
    book = parse_playbook(GOOD, "x.toml")
    assert book.control_share == 0.1
    assert book.audience[0].segments is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace('purpose = "service"', 'purpose = "spam"'), "purpose"),
        (GOOD.replace("[trigger]", "colour = 1\n[trigger]"), "column 'colour': unknown field"),
        (GOOD + "colour = 1\n", "column 'trigger.colour': unknown field"),
        (GOOD.replace("delay_days = 3", "delay_days = -1"), "trigger.delay_days"),
        (GOOD + '[audience]\nsegments = ["vips"]\n', "unknown segment 'vips'"),
        (GOOD + "[audience]\nmin_p_alive = 0.8\nmax_p_alive = 0.2\n", "nobody can match"),
        (GOOD.replace('on = "order"', 'on = "score"'), "needs score conditions"),
        (GOOD.replace('name = "thanks"', 'name = "Thanks!"'), "column 'name'"),
        ("name = [", "not valid TOML"),
        (GOOD.replace("[trigger]", "control_share = 2\n[trigger]"), "column 'control_share'"),
    ],
)
def test_mistakes_are_reported_with_place(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_playbook(text, "mine/thanks.toml")
    assert "mine/thanks.toml" in str(raised.value)
    assert message in str(raised.value)


def test_a_folder_reports_every_bad_file_and_duplicate_names(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "c.toml").write_text("name = 1", encoding="utf-8")
    with pytest.raises(InvalidInput) as raised:
        load_playbooks(tmp_path)
    text = str(raised.value)
    assert "b.toml: playbook name 'thanks' is used twice" in text
    assert "c.toml" in text


def test_copy_then_check_then_use_an_edited_folder(tmp_path: Path) -> None:
    runner = CliRunner()
    folder = tmp_path / "books"
    assert runner.invoke(app, ["playbooks", "copy", str(folder)]).exit_code == 0
    assert len(list(folder.glob("*.toml"))) == 9
    (folder / "referral.toml").unlink()
    result = runner.invoke(app, ["playbooks", "check", str(folder)])
    assert result.exit_code == 0, result.output
    assert "8 playbooks are valid" in result.output
    (folder / "birthday.toml").write_text(GOOD.replace("thank_you", "nope"), encoding="utf-8")
    db = new_store(tmp_path / "s.db")
    listed = runner.invoke(app, ["playbooks", "list", "--db", db, "--playbooks", str(folder)])
    assert listed.exit_code == 1
    assert "names template 'nope', which does not exist" in listed.output
