"""The uplift report's cost and return per playbook: the offers' cost (redeemed discounts at
the discount recorded, else percent × order amount; fulfilled gifts at cost, from the gift
catalogue when the offer holds none) and incremental revenue ÷ cost with a 95% interval
that agrees with a bootstrap; and why, in words, when it cannot be computed. Through
`relmark report uplift --json` on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import Engine, insert
from typer.testing import CliRunner

from relmark.interact import uplift
from relmark.interfaces.cli import app
from relmark.store.models import Customer, Message, Order, SourceRecord
from relmark.store.offer_models import Offer, OfferRedemption

from .. import offer_factory as make

runner = CliRunner()
DUE = make.T0


def bulk_shop(engine: Engine, playbook: str, treated: int, control: int, seed: int) -> dict:
    """`treated` sent messages each with a 20% code, `control` held-out ones; customers
    order within the window at random (treated more often), some treated orders redeem the
    code (half recording the discount, half not). Returns the per-customer truth."""
    rng = np.random.default_rng(seed)
    truth: dict[str, list] = {"rev_t": [], "cost_t": [], "rev_c": []}
    with engine.begin() as connection:
        base = connection.execute(Customer.__table__.select().with_only_columns(Customer.id)).all()
        offset = len(base) + 1000 * seed
        for i in range(treated + control):
            is_treated = i < treated
            cid = connection.execute(
                insert(Customer).values(created_at=DUE, updated_at=DUE)
            ).inserted_primary_key[0]
            record = connection.execute(
                insert(SourceRecord).values(
                    source="default",
                    external_id=f"{playbook}-{offset + i}",
                    customer_id=cid,
                    imported_at=DUE,
                    updated_at=DUE,
                )
            ).inserted_primary_key[0]
            message = connection.execute(
                insert(Message).values(
                    idempotency_key=f"{playbook}:{cid}",
                    playbook=playbook,
                    customer_id=cid,
                    occasion="x",
                    channel="email",
                    purpose="marketing",
                    priority=50,
                    status="sent" if is_treated else "held",
                    reason=None if is_treated else "control_group",
                    created_at=DUE,
                    due_at=DUE,
                    attempts=1 if is_treated else 0,
                    sent_at=DUE if is_treated else None,
                    rfc_message_id=f"<{playbook}.{cid}@t>",
                )
            ).inserted_primary_key[0]
            ordered = rng.random() < (0.45 if is_treated else 0.25)
            amount = int(rng.integers(2000, 9000)) if ordered else 0
            cost = 0
            if ordered:
                order_id = connection.execute(
                    insert(Order).values(
                        source="default",
                        external_id=f"{playbook}-o{offset + i}",
                        customer_id=cid,
                        source_record_id=record,
                        ordered_at=DUE + timedelta(days=2),
                        currency="EUR",
                        amount_minor=amount,
                        discount_minor=0,
                        status="completed",
                    )
                ).inserted_primary_key[0]
            if is_treated:
                offer_id = connection.execute(
                    insert(Offer).values(
                        code=f"{playbook[:4].upper()}-{offset + i:08d}",
                        kind="discount",
                        status="issued",
                        customer_id=cid,
                        message_id=message,
                        playbook=playbook,
                        percent_off=20,
                        max_uses=1,
                        uses=0,
                        created_at=DUE,
                        issued_at=DUE,
                    )
                ).inserted_primary_key[0]
                if ordered and rng.random() < 0.6:
                    recorded = int(rng.integers(300, 900)) if rng.random() < 0.5 else None
                    cost = recorded if recorded is not None else round(amount * 0.2)
                    connection.execute(
                        insert(OfferRedemption).values(
                            offer_id=offer_id,
                            order_id=order_id,
                            customer_id=cid,
                            discount_minor=recorded,
                            redeemed_at=DUE + timedelta(days=2),
                        )
                    )
                truth["rev_t"].append(amount / 100)
                truth["cost_t"].append(cost / 100)
            else:
                truth["rev_c"].append(amount / 100)
    return {k: np.array(v) for k, v in truth.items()}


def report(engine: Engine) -> dict[str, dict]:
    url = engine.url.render_as_string(hide_password=False)
    result = runner.invoke(app, ["report", "uplift", "--json", "--db", url])
    assert result.exit_code == 0, result.output
    return {r["playbook"]: r for r in json.loads(result.output)["playbooks"]}


def bootstrap(truth: dict, draws: int = 3000) -> tuple[float, float]:
    rng = np.random.default_rng(7)
    n_t, n_c = truth["rev_t"].size, truth["rev_c"].size
    picks_t = rng.integers(0, n_t, size=(draws, n_t))
    picks_c = rng.integers(0, n_c, size=(draws, n_c))
    diff = truth["rev_t"][picks_t].mean(axis=1) - truth["rev_c"][picks_c].mean(axis=1)
    ratios = diff / truth["cost_t"][picks_t].mean(axis=1)
    low, high = np.percentile(ratios, [2.5, 97.5])
    return float(low), float(high)


def test_cost_and_return_of_a_discount_playbook_with_an_interval_a_bootstrap_agrees_with(
    engine: Engine,
) -> None:
    # given
    truth = bulk_shop(engine, "win-back", treated=250, control=250, seed=1)
    # when
    row = report(engine)["win-back"]
    # then
    cost = truth["cost_t"].sum()
    lift = truth["rev_t"].mean() - truth["rev_c"].mean()
    assert row["offers"] == 250
    assert row["offers_cost"] == pytest.approx(cost)
    assert row["incremental_revenue"] == pytest.approx(lift * 250)
    assert row["return_on_cost"] == pytest.approx(lift * 250 / cost)
    low, high = row["return_on_cost_ci95"]
    boot_low, boot_high = bootstrap(truth)
    width = boot_high - boot_low
    assert abs(low - boot_low) < 0.2 * width
    assert abs(high - boot_high) < 0.2 * width
    assert row["return_note"] is None


def test_gifts_cost_when_sent_at_their_own_or_the_catalogues_cost(engine: Engine) -> None:
    bulk_shop(engine, "vip-gift", treated=3, control=3, seed=2)
    with engine.begin() as connection:  # turn the three codes into gifts
        connection.execute(
            Offer.__table__.update()
            .where(Offer.playbook == "vip-gift")
            .values(kind="gift", percent_off=None, gift="tote-bag", currency="EUR")
        )
        connection.execute(OfferRedemption.__table__.delete())
        ids = [r[0] for r in connection.execute(Offer.__table__.select().order_by(Offer.id))]
        sent = {"fulfilled_at": DUE + timedelta(days=3)}
        connection.execute(
            Offer.__table__.update().where(Offer.id == ids[0]).values(cost_minor=700, **sent)
        )
        connection.execute(Offer.__table__.update().where(Offer.id == ids[1]).values(**sent))
    row = report(engine)["vip-gift"]
    assert row["offers_cost"] == pytest.approx(7.00 + 4.50)  # own cost; tote bag from catalogue


def test_why_there_is_no_return_is_said(engine: Engine) -> None:
    bulk_shop(engine, "unused", treated=20, control=20, seed=3)
    with engine.begin() as connection:
        connection.execute(OfferRedemption.__table__.delete())
    bulk_shop(engine, "everyone", treated=20, control=0, seed=4)
    ana = make.customer(engine, "A1")
    bo = make.customer(engine, "B1")
    make.message(engine, ana, "thank-you", "sent", DUE)
    make.message(engine, bo, "thank-you", "held", DUE, reason="control_group")
    rows = report(engine)
    assert rows["unused"]["return_note"] == uplift.NO_COST_YET
    assert rows["unused"]["offers_cost"] == 0
    assert rows["everyone"]["return_note"] == uplift.NO_CONTROL
    assert rows["thank-you"]["return_note"] == uplift.NO_OFFERS
    assert rows["thank-you"]["offers_cost"] is None
    for row in rows.values():
        assert row["return_on_cost"] is None
    url = engine.url.render_as_string(hide_password=False)
    table = runner.invoke(app, ["report", "uplift", "--db", url])
    assert table.exit_code == 0, table.output
    assert f"unused: no return on cost: {uplift.NO_COST_YET}" in " ".join(table.output.split())
