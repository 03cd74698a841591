"""`relmark loyalty …` through the real CLI on a real store file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from relmark.interfaces.cli import app
from relmark.store.db import make_engine

from ..helpers import new_store, rows
from .seed import add_customer, add_order, set_status, write_programme

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_the_loyalty_commands_from_enable_to_liability(tmp_path: Path) -> None:
    # given a store with a customer and two orders, and a programme file
    url = new_store(tmp_path / "shop.db")
    engine = make_engine(url)
    now = datetime.now(UTC)
    anna = add_customer(engine)
    add_order(engine, anna, 9000, now - timedelta(days=40))
    refunded = add_order(engine, anna, 2000, now - timedelta(days=20))
    programme = str(write_programme(tmp_path))
    store = ["--db", url, "--programme", programme]

    # when posting before the programme is on: refused, nothing posted
    code, output = invoke("loyalty", "post", *store)
    assert code == 1
    assert "loyalty programme is off" in output
    assert rows(engine, "SELECT COUNT(*) FROM loyalty_entries") == [(0,)]

    # when it is switched on and posted (twice)
    assert invoke("loyalty", "enable", "--db", url)[0] == 0
    code, output = invoke("loyalty", "post", *store, "--json")
    assert code == 0, output
    assert json.loads(output)["points_earned"] == 110
    assert json.loads(invoke("loyalty", "post", *store, "--json")[1])["points_earned"] == 0

    # then the balance shows it; a grant needs a reason; a reward is bought with points
    card = json.loads(invoke("loyalty", "balance", str(anna), *store, "--json")[1])
    assert (card["balance"], card["tier"], card["value"]) == (110, "silver", "1.10")
    code, output = invoke("loyalty", "grant", str(anna), "25", "--reason", " ", *store)
    assert code == 1
    assert "needs a reason" in output
    code, output = invoke("loyalty", "grant", str(anna), "25", "--reason", "late parcel", *store)
    assert code == 0, output
    code, output = invoke("loyalty", "redeem", str(anna), "five-off", *store, "--json")
    assert code == 0, output
    bought = json.loads(output)
    assert bought["balance"] == 85
    assert rows(engine, "SELECT code, kind FROM offers") == [(bought["code"], "points_reward")]
    code, output = invoke("loyalty", "redeem", str(anna), "no-such", *store)
    assert code == 1
    assert "no reward 'no-such'" in output

    # when an order is refunded: its 20 points are taken back at the next posting
    set_status(engine, refunded, "refunded")
    posted = json.loads(invoke("loyalty", "post", *store, "--json")[1])
    assert (posted["reversed_orders"], posted["points_reversed"]) == (1, 20)

    # and finance sees what is outstanding, by month of expiry
    code, output = invoke("loyalty", "liability", *store, "--format", "json")
    assert code == 0, output
    report = json.loads(output)
    assert report["outstanding_points"] == 65
    assert report["value"] == "0.65"
    assert report["breakage"]["rate"] is None
    assert "no earned points have reached their expiry" in report["breakage"]["unknown_because"]
    assert sum(m["points"] for m in report["by_month"]) == 65
    code, output = invoke("loyalty", "expire", "--db", url, "--json")
    assert code == 0, output
    assert json.loads(output) == {"entries": 0, "points": 0}  # nothing is due for a year
    catalogue = json.loads(invoke("loyalty", "catalogue", "--programme", programme, "--json")[1])
    assert [r["key"] for r in catalogue] == ["five-off", "mug"]
    engine.dispose()


def test_a_broken_programme_file_is_reported_with_file_and_key(tmp_path: Path) -> None:
    broken = tmp_path / "programme.toml"
    broken.write_text(
        'currency = "EUX"\npoint_value = 0.01\npoints_per_unt = 2\n'
        '[[rewards]]\nkey = "x"\ntitle = "X"\npoints = 10\namount = 5\ngift = "mug"\n',
        encoding="utf-8",
    )

    code, output = invoke("loyalty", "programme", "--programme", str(broken))

    assert code == 1
    flat = " ".join(output.split())
    assert str(broken) in flat
    assert "'EUX' is not an ISO 4217 currency code" in flat
    assert "points_per_unt" in flat
    assert "unknown key (a typo?)" in flat
    assert "rewards.0" in flat
    assert "exactly one of amount, percent_off or gift (this one: amount, gift)" in flat


def test_the_shipped_programme_is_valid_and_can_be_copied(tmp_path: Path) -> None:
    copy = tmp_path / "mine.toml"

    code, output = invoke("loyalty", "programme", "--copy", str(copy))
    assert code == 0, output
    code, output = invoke("loyalty", "programme", "--programme", str(copy))

    assert code == 0, output
    assert "the file is valid" in " ".join(output.split())
