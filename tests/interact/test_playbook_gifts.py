"""A gift offer names a key of the gift catalogue: otherwise its cost (and the uplift's return)
is never known and the pick list cannot name it. The shipped playbook does; a folder whose
playbook does not is refused by `playbooks check` and wherever the playbooks are loaded."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from relmark.config import get_settings
from relmark.interact.gift_catalogue import load_gifts
from relmark.interact.playbook import load_playbooks
from relmark.interfaces.cli import app

from ..helpers import new_store

runner = CliRunner()
GIFT_BOOK = """
name = "thanks-gift"
title = "Thanks with a gift"
purpose = "marketing"
template = "vip_gift"
cost = "high"
[offer]
kind = "gift"
gift = "{gift}"
valid_days = 30
[trigger]
on = "order"
delay_days = 3
"""


def folder_with(tmp_path: Path, gift: str) -> Path:
    folder = tmp_path / "books"
    folder.mkdir()
    (folder / "thanks-gift.toml").write_text(GIFT_BOOK.format(gift=gift), encoding="utf-8")
    return folder


def test_every_shipped_gift_offer_names_a_shipped_catalogue_key() -> None:
    catalogue = load_gifts()
    gifts = {b.name: b.offer.gift for b in load_playbooks() if b.offer and b.offer.gift}
    assert gifts  # vip-gift at least
    assert {name: gift for name, gift in gifts.items() if gift not in catalogue} == {}


def test_check_refuses_a_gift_that_is_not_in_the_catalogue(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, "surprise gift")
    result = runner.invoke(app, ["playbooks", "check", str(folder)])
    assert result.exit_code == 1
    assert "thanks-gift.toml" in result.output
    assert "offer.gift" in result.output
    assert "'surprise gift' is not in the gift catalogue" in result.output
    assert "known: tea-sampler, tote-bag" in result.output


def test_check_uses_the_stores_own_catalogue(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, "mug")
    (tmp_path / "gifts.toml").write_text(
        '[gifts.mug]\nname = { en = "Mug" }\ncost_minor = 300\ncurrency = "EUR"\n',
        encoding="utf-8",
    )
    shipped = runner.invoke(app, ["playbooks", "check", str(folder)])
    get_settings.cache_clear()  # the CLI reads the environment once per process
    own = runner.invoke(
        app, ["playbooks", "check", str(folder)], env={"RELMARK_GIFTS_DIR": str(tmp_path)}
    )
    assert shipped.exit_code == 1
    assert "'mug' is not in the gift catalogue" in shipped.output
    assert own.exit_code == 0, own.output
    assert "1 playbooks are valid" in own.output


def test_loading_a_folder_for_planning_refuses_an_unknown_gift(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, "surprise gift")
    db = new_store(tmp_path / "s.db")
    listed = runner.invoke(app, ["playbooks", "list", "--db", db, "--playbooks", str(folder)])
    planned = runner.invoke(app, ["plan", "--db", db, "--playbooks", str(folder)])
    for result in (listed, planned):
        assert result.exit_code == 1
        assert "'surprise gift' is not in the gift catalogue" in result.output
