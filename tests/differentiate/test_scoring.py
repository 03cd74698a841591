"""`relmark score` on a store: every buyer valued, runs kept, segment moves logged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from relmark import pipeline
from relmark.demo.build import load
from relmark.demo.generate import generate
from relmark.differentiate.rfm import SEGMENTS
from relmark.differentiate.score import ScoreSettings
from relmark.errors import InvalidInput
from relmark.interfaces.cli import app
from relmark.store.scores import list_scores

from ..helpers import new_store, rows, run_import, write_csv

AS_OF = datetime(2026, 10, 1, 23, 59, 59, tzinfo=UTC)


@pytest.fixture
def demo_store(engine: Engine, tmp_path) -> Engine:
    from relmark.demo.build import write_files

    data = generate(600, seed=9, as_of=AS_OF)
    write_files(data, tmp_path)
    load(engine, data, tmp_path, now=AS_OF)
    return engine


def test_scoring_values_every_buyer_and_saves_the_run(demo_store: Engine) -> None:
    report = pipeline.score(demo_store, as_of=AS_OF, settings=ScoreSettings(draws=20), now=AS_OF)

    buyers = rows(
        demo_store,
        "SELECT COUNT(DISTINCT customer_id) FROM orders "
        "WHERE status IN ('completed', 'partially_refunded')",
    )[0][0]
    assert report.customers == buyers
    assert set(report.segments) <= set(SEGMENTS)
    assert sum(report.segments.values()) == buyers
    checks = rows(
        demo_store,
        "SELECT MIN(p_alive), MAX(p_alive), MIN(clv_minor), "
        "SUM(CASE WHEN clv_p10_minor <= clv_p90_minor THEN 1 ELSE 0 END), "
        "COUNT(*) FROM customer_scores WHERE run_id = :r",
        r=report.run_id,
    )
    low, high, clv_min, ordered, total = checks[0]
    assert 0 <= low <= high <= 1
    assert clv_min >= 0
    assert ordered == total
    run = rows(demo_store, "SELECT model, currency, n_customers FROM score_runs")
    assert run == [(report.run["model"], "USD", buyers)]
    # the default chose a model with drop-out before a repeat, and reported all three
    selection = report.run["selection"]
    assert selection["chosen"] == report.run["model"] in ("mbgnbd", "pnbd")
    assert [c["model"] for c in selection["candidates"]] == ["bgnbd", "mbgnbd", "pnbd"]
    chosen = next(c for c in selection["candidates"] if c["model"] == selection["chosen"])
    fitted = [c for c in selection["candidates"] if c["fitted"] and c["model"] != "bgnbd"]
    assert chosen["bic"] == min(c["bic"] for c in fitted)
    assert report.run["p_alive_reason"] is None
    assert report.run["clv_reason"] is None


def test_a_later_scoring_logs_who_changed_segment(demo_store: Engine) -> None:
    earlier = AS_OF - timedelta(days=180)
    first = pipeline.score(demo_store, as_of=earlier, settings=ScoreSettings(draws=0), now=earlier)
    same = pipeline.score(demo_store, as_of=earlier, settings=ScoreSettings(draws=0), now=earlier)
    moved = pipeline.score(demo_store, as_of=AS_OF, settings=ScoreSettings(draws=0), now=AS_OF)

    assert same.segment_changes == 0
    assert moved.segment_changes > 0
    events = rows(
        demo_store, "SELECT COUNT(*) FROM customer_events WHERE kind = 'segment_changed'"
    )[0][0]
    assert events == moved.segment_changes
    assert first.run_id < same.run_id < moved.run_id


def test_best_customers_come_first(demo_store: Engine) -> None:
    report = pipeline.score(demo_store, as_of=AS_OF, settings=ScoreSettings(draws=0), now=AS_OF)

    with demo_store.connect() as connection:
        top = list_scores(connection, report.run_id, sort="clv", limit=10)
        at_risk = list_scores(connection, report.run_id, segment="at_risk", limit=1000)

    values = [row["clv_minor"] for row in top]
    assert values == sorted(values, reverse=True)
    assert all(row["segment"] == "at_risk" for row in at_risk)
    assert top[0]["explanation"].startswith(f"R={top[0]['r']} because the last order was")


def test_scoring_refuses_mixed_currencies(engine: Engine, tmp_path) -> None:
    path = write_csv(
        tmp_path,
        "o.csv",
        ["order_id", "customer_id", "ordered_at", "amount", "currency"],
        [["1", "A", "2026-01-01", "10", "EUR"], ["2", "B", "2026-01-02", "10", "USD"]],
    )
    run_import(engine, "orders", path, create_missing=True)

    with pytest.raises(InvalidInput, match="orders are in 2 currencies"):
        pipeline.score(engine, as_of=AS_OF, settings=ScoreSettings(), now=AS_OF)


def test_score_and_customers_commands(tmp_path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    built = runner.invoke(
        app,
        [
            "demo",
            "--customers",
            "300",
            "--seed",
            "4",
            "--as-of",
            "2026-10-01",
            "--db",
            db,
            "--no-serve",
            "--json",
        ],
    )
    assert built.exit_code == 0, built.output
    assert json.loads(built.stdout)["scoring"]["customers"] > 200

    scored = runner.invoke(
        app, ["score", "--db", db, "--as-of", "2026-10-01", "--draws", "0", "--json"]
    )
    listed = runner.invoke(
        app, ["customers", "--db", db, "--sort", "p_alive", "--limit", "5", "--json"]
    )
    bad = runner.invoke(app, ["customers", "--db", db, "--segment", "vip"])

    assert scored.exit_code == 0, scored.output
    assert (
        json.loads(scored.stdout)["run_id"] == 3
    )  # the demo scored half a year back and at its end
    customers = json.loads(listed.stdout)
    assert len(customers) == 5
    assert [c["p_alive"] for c in customers] == sorted(
        (c["p_alive"] for c in customers), reverse=True
    )
    assert bad.exit_code == 1
    assert "'vip' is not a segment" in bad.output


def test_customers_before_any_scoring_says_what_to_do(tmp_path) -> None:
    result = CliRunner().invoke(app, ["customers", "--db", new_store(tmp_path / "s.db")])

    assert result.exit_code == 1
    assert "no scoring run yet: run `relmark score` first" in result.output


def test_order_cost_falls_back_to_product_unit_costs(engine: Engine, tmp_path) -> None:
    from relmark.store.scores import scoring_orders

    run_import(
        engine,
        "products",
        write_csv(
            tmp_path,
            "p.csv",
            ["sku", "name", "unit_cost"],
            [["A", "Kettle", "20"], ["B", "Filters", ""]],
        ),
    )
    path = write_csv(
        tmp_path,
        "o.csv",
        ["order_id", "customer_id", "ordered_at", "sku", "quantity", "unit_price", "cost"],
        [
            ["1", "C", "2026-01-01", "A", "2", "50", ""],
            ["2", "C", "2026-01-02", "B", "1", "5", ""],
            ["3", "C", "2026-01-03", "A", "1", "50", "12"],
        ],
    )
    run_import(engine, "orders", path, create_missing=True)

    with engine.connect() as connection:
        costs = scoring_orders(connection, AS_OF).sort("ordered_at")["cost_minor"].to_list()

    assert costs == [4000, None, 1200]  # lines' unit costs; unknown; the file's own


def test_default_p_alive_is_believable_on_the_demo_store(demo_store: Engine) -> None:
    # when the demo store is scored with the default choice, and with BG/NBD forced
    chosen = pipeline.score(demo_store, as_of=AS_OF, settings=ScoreSettings(draws=0), now=AS_OF)
    bgnbd = pipeline.score(
        demo_store, as_of=AS_OF, settings=ScoreSettings(model="bgnbd", draws=0), now=AS_OF
    )

    def p_alive(run_id: int, where: str) -> list[float]:
        found = rows(
            demo_store,
            f"SELECT p_alive FROM customer_scores WHERE run_id = :r AND {where}",
            r=run_id,
        )
        return [value for (value,) in found]

    gone = "frequency = 0 AND days_since_last > 365"
    lost = p_alive(chosen.run_id, "segment = 'lost'")
    champions = p_alive(chosen.run_id, "segment = 'champions'")

    # then lost customers are less likely alive than champions, and no one-time buyer gone
    # for over a year looks certainly alive (BG/NBD, the old default, says exactly that)
    assert chosen.run["model"] != "bgnbd"
    assert lost
    assert champions
    assert sum(lost) / len(lost) < sum(champions) / len(champions)
    assert p_alive(chosen.run_id, gone)
    assert max(p_alive(chosen.run_id, gone)) < 0.99
    assert min(p_alive(bgnbd.run_id, gone)) == 1.0
