"""Gifts on the pick list until fulfilled with the order that carried them, and the gift
catalogue checked with clear errors: through the real CLI on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from relmark.errors import InvalidInput
from relmark.interact.gift_catalogue import load_gifts, parse_catalogue
from relmark.interfaces.cli import app
from relmark.store.audit import entries

from .gift_shop import gift_shop

runner = CliRunner()


def cli(engine: Engine, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    url = engine.url.render_as_string(hide_password=False)
    result = runner.invoke(app, [*args, "--db", url], env=env)
    return result.exit_code, result.output


def listed(engine: Engine, *options: str) -> dict:
    code, output = cli(engine, "gifts", "list", "--json", *options)
    assert code == 0, output
    return json.loads(output)


def test_the_pick_list_shows_owed_gifts_with_address_and_the_order_to_ship_with(
    engine: Engine,
) -> None:
    ids = gift_shop(engine)
    every = listed(engine)
    due = listed(engine, "--due")
    assert [g["code"] for g in every["gifts"]] == ["GIFT-BBBB3333", "GIFT-AAAA2222"]  # oldest first
    assert [g["code"] for g in due["gifts"]] == ["GIFT-AAAA2222"]
    ana = due["gifts"][0]
    assert (ana["customer_id"], ana["first_name"], ana["address"], ana["city"]) == (
        ids["ana"],
        "Ana",
        "Slovenska 1",
        "Ljubljana",
    )
    assert (ana["next_order"], ana["next_order_id"]) == ("1002", ids["orders"]["ana_next"])
    assert ana["gift_name"] == "Tea sampler (5 teas)"
    assert every["gifts"][0]["next_order"] is None  # Bo has not ordered since
    shelf = {g["gift"]: g for g in every["shelf"]}
    assert (shelf["tea-sampler"]["owed"], shelf["tea-sampler"]["stock"]) == (3, 500)


def test_fulfilling_takes_the_gift_off_the_list_and_is_audited(engine: Engine) -> None:
    ids = gift_shop(engine)
    code, output = cli(engine, "gifts", "fulfil", "gift-aaaa 2222", "--order", "1002")
    assert code == 0, output
    assert f"GIFT-AAAA2222 fulfilled with order id {ids['orders']['ana_next']}" in output
    assert [g["code"] for g in listed(engine)["gifts"]] == ["GIFT-BBBB3333"]
    with engine.connect() as connection:
        audit = [e for e in entries(connection) if e["action"] == "gift.fulfil"]
    assert [(e["customer_id"], e["detail"]["order_id"]) for e in audit] == [
        (ids["ana"], ids["orders"]["ana_next"])
    ]


@pytest.mark.parametrize(
    ("code", "order", "reason"),
    [
        ("GIFT-ZZZZ9999", "1002", "no offer has the code GIFT-ZZZZ9999"),
        ("BACK-FFFF7777", "1002", "BACK-FFFF7777 is a discount offer, not a gift"),
        ("GIFT-DDDD5555", "1002", "GIFT-DDDD5555 was already fulfilled"),
        ("GIFT-EEEE6666", "1002", "GIFT-EEEE6666 is expired, not owed any more"),
        ("GIFT-AAAA2222", "2001", "the gift's customer has no order 2001"),
        ("GIFT-AAAA2222", "1001", "order 1001 was placed before the gift was promised"),
    ],
    ids=["unknown", "not_a_gift", "already_sent", "expired", "other_customer", "too_early"],
)
def test_a_fulfilment_that_cannot_be_right_is_refused_and_changes_nothing(
    engine: Engine, code: str, order: str, reason: str
) -> None:
    gift_shop(engine)
    before = listed(engine)
    exit_code, output = cli(engine, "gifts", "fulfil", code, "--order", order)
    assert exit_code == 1
    assert reason in " ".join(output.split())
    assert "nothing was changed" in output
    assert listed(engine) == before


def test_the_stores_own_catalogue_replaces_the_shipped_one(engine: Engine, tmp_path: Path) -> None:
    gift_shop(engine)
    (tmp_path / "gifts.toml").write_text(
        '[gifts.tea-sampler]\nname = { en = "Three teas", sl = "Trije čaji" }\n'
        'cost_minor = 200\ncurrency = "EUR"\n',
        encoding="utf-8",
    )
    code, output = cli(engine, "gifts", "list", "--json", env={"RELMARK_GIFTS_DIR": str(tmp_path)})
    assert code == 0, output
    names = {g["gift_name"] for g in json.loads(output)["gifts"]}
    assert names == {"Three teas"}


def test_a_broken_catalogue_names_every_problem_with_its_field(tmp_path: Path) -> None:
    (tmp_path / "gifts.toml").write_text(
        '[gifts.Tote_Bag]\nname = { en = "Bag" }\ncost_minor = 1\ncurrency = "EUR"\n'
        '[gifts.mug]\nname = { fr = "Tasse" }\ncost_minor = -5\ncurrency = "eur"\ncolour = 1\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["gifts", "check", str(tmp_path)])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    for expected in (
        "gifts.Tote_Bag': a gift key is lower-case letters, digits and dashes",
        "gifts.mug.name': unknown language 'fr'",
        "gifts.mug.cost_minor': Input should be greater than or equal to 0",
        "gifts.mug.currency': a three-letter currency code in capitals (like EUR)",
        "gifts.mug.colour': unknown field (a typo?)",
    ):
        assert expected in text
    with pytest.raises(InvalidInput, match="needs an English name"):
        parse_catalogue(
            '[gifts.mug]\nname = { sl = "Skodelica" }\ncost_minor = 1\ncurrency = "EUR"', "x"
        )
    with pytest.raises(InvalidInput, match="no gift catalogue here"):
        load_gifts(tmp_path / "missing")
    assert runner.invoke(app, ["gifts", "check"]).exit_code == 0  # the shipped one is fine


def test_two_people_fulfilling_the_same_gift_at_once_record_it_once(engine: Engine) -> None:
    """On PostgreSQL two real connections race; exactly one wins, the other is told."""
    import threading
    from datetime import UTC, datetime

    from relmark.gift_picking import fulfil
    from relmark.store.audit import Actor

    gift_shop(engine)
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def attempt(order: str) -> None:
        start.wait()
        try:
            fulfil(engine, "GIFT-AAAA2222", order, datetime.now(UTC), Actor.cli())
            outcomes.append("won")
        except InvalidInput as exc:
            outcomes.append(exc.problems[0].message)

    threads = [threading.Thread(target=attempt, args=(o,)) for o in ("1002", "1003")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("won") == 1
    loser = next(o for o in outcomes if o != "won")
    assert "fulfilled" in loser
    with engine.connect() as connection:
        assert len([e for e in entries(connection) if e["action"] == "gift.fulfil"]) == 1
