"""`relmark score` never leaves a store without values: small and hostile stores end with
RFM segments, revenue and profit, and model values or the reason they are empty."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from typer.testing import CliRunner

from relmark.interfaces.cli import app
from relmark.store.db import make_engine
from relmark.store.migrate import ensure_current

from ..helpers import new_store, rows, run_import, write_csv
from .small_stores import END, SHAPES, write_orders

AS_OF = END.date().isoformat()
SRC = Path(__file__).resolve().parents[2] / "src"


def _score(db: str, *options: str) -> dict:
    result = CliRunner().invoke(
        app, ["score", "--db", db, "--as-of", AS_OF, "--draws", "10", "--json", *options]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _check_values_or_reasons(engine: Engine, report: dict) -> None:
    """Every buyer has an RFM segment, revenue and profit; every empty model value has a
    reason stored with the run, in plain words."""
    run_id = report["run_id"]
    (stored,) = rows(
        engine, "SELECT p_alive_reason, clv_reason, model FROM score_runs WHERE id = :r", r=run_id
    )
    scored = rows(
        engine,
        "SELECT segment, r, f, m, revenue_minor, profit_minor, profit_tier, p_alive, clv_minor "
        "FROM customer_scores WHERE run_id = :r",
        r=run_id,
    )
    buyers = rows(
        engine,
        "SELECT COUNT(DISTINCT customer_id) FROM orders WHERE status = 'completed' "
        "AND ordered_at <= :end",
        end=datetime.fromisoformat(AS_OF).replace(hour=23, minute=59, second=59, tzinfo=UTC),
    )[0][0]
    assert len(scored) == buyers == report["customers"]
    for segment, r, f, m, revenue, profit, tier, p_alive, clv in scored:
        assert segment
        assert 1 <= r <= 5
        assert 1 <= f <= 5
        assert 1 <= m <= 5
        assert revenue is not None
        assert profit is not None
        assert tier in "ABCD"
        assert p_alive is not None or stored[0]
        assert clv is not None or stored[1]
        if p_alive is not None:
            assert 0 <= p_alive <= 1
    for reason in (stored[0], stored[1], json.dumps(report["selection"])):
        assert "np.float" not in (reason or "")
        assert "array(" not in (reason or "")


@pytest.mark.parametrize("shape", list(SHAPES))
def test_small_shopify_like_stores_get_segments_and_values_or_reasons(
    shape: str, tmp_path: Path
) -> None:
    # given a small shop's 18 months of orders, imported through the CLI
    db = new_store(tmp_path / "shop.db")
    orders = write_orders(tmp_path / "orders.csv", SHAPES[shape]())
    imported = CliRunner().invoke(
        app, ["import", "orders", str(orders), "--create-missing", "--db", db]
    )
    assert imported.exit_code == 0, imported.output

    # when it is scored with the default choice of model (its cost in CPU seconds: the
    # machine's other work does not count)
    started = time.process_time()
    report = _score(db)
    seconds = time.process_time() - started

    # then RFM segments exist for every buyer and every model value is there or explained
    assert sum(report["segments"].values()) == report["customers"] > 60
    _check_values_or_reasons(make_engine(db), report)
    assert len(report["selection"]["candidates"]) == 3
    assert seconds < 10


def test_a_forced_model_that_cannot_be_fitted_says_so_and_what_to_try(tmp_path: Path) -> None:
    db = new_store(tmp_path / "shop.db")
    orders = write_orders(tmp_path / "orders.csv", [[10.0], [20.0], [30.0, 40.0]] * 4)
    CliRunner().invoke(app, ["import", "orders", str(orders), "--create-missing", "--db", db])

    report = _score(db, "--model", "bgnbd")
    shown = CliRunner().invoke(app, ["customers", "--db", db])
    printed = CliRunner().invoke(app, ["score", "--db", db, "--as-of", AS_OF, "--model", "bgnbd"])

    assert report["model"] == "none"
    assert "2 of 12" not in report["p_alive_reason"]  # 4 of 12 bought again
    assert "4 of 12 customers bought more than once" in report["p_alive_reason"]
    assert "try" in report["p_alive_reason"]
    assert shown.exit_code == 0, shown.output
    assert "not computed: " in shown.output
    assert "P(alive): the probability that the customer has not stopped buying" in shown.output
    assert sum(report["segments"].values()) == 12
    assert printed.exit_code == 0, printed.output
    assert "P(alive) and expected purchases: not computed: BG/NBD could not be fitted" in (
        " ".join(printed.output.split())
    )
    assert "BG/NBD: not fitted: " in printed.output
    assert "RFM segments, revenue, profit and tiers: computed" in printed.output


def test_without_a_spend_model_clv_is_empty_with_its_reason_and_p_alive_kept(
    engine: Engine, tmp_path: Path
) -> None:
    # a shop whose repeat purchases are all free (refills given away): Gamma-Gamma has
    # nothing to fit, the purchase models have
    start = END - timedelta(days=548)
    lines = [
        [f"{c}-{k}", f"C{c}", (start + timedelta(days=d)).isoformat(), "0.00" if k else "25.00"]
        for c, days in enumerate(SHAPES["heterogeneous churn"]())
        for k, d in enumerate(days)
    ]
    path = write_csv(tmp_path, "o.csv", ["order_id", "customer_id", "ordered_at", "amount"], lines)
    run_import(engine, "orders", path, create_missing=True)
    db = engine.url.render_as_string(hide_password=False)

    report = _score(db)

    assert report["model"] != "none"
    assert report["p_alive_reason"] is None
    assert "positive spend" in report["clv_reason"]
    nulls = rows(
        engine,
        "SELECT COUNT(p_alive), COUNT(clv_minor), COUNT(*) FROM customer_scores WHERE run_id = :r",
        r=report["run_id"],
    )
    assert nulls == [(78, 0, 78)]


# --- hostile small stores, generated --------------------------------------------------------

KINDS = ("one customer", "one-time buyers", "one day", "nobody churns", "everyone churns", "mixed")


@st.composite
def hostile_stores(draw: st.DrawFn) -> tuple[str, list[list[int]], bool]:
    """(kind, purchase days per customer counted back from the scoring day, free orders)."""
    kind = draw(st.sampled_from(KINDS))
    n = 1 if kind == "one customer" else draw(st.integers(2, 30))
    day = st.integers(0, 540)
    if kind == "one-time buyers":
        histories = [[draw(day)] for _ in range(n)]
    elif kind == "one day":
        same = draw(st.sampled_from([0, 1, 300]))
        histories = [[same] * draw(st.integers(1, 3)) for _ in range(n)]
    elif kind == "nobody churns":
        gap = draw(st.integers(7, 60))
        histories = [list(range(c % gap, 541, gap)) for c in range(n)]
    elif kind == "everyone churns":
        histories = [[540 - c, 530 - c, 520 - c] for c in range(n)]
    else:
        histories = [draw(st.lists(day, min_size=1, max_size=6)) for _ in range(n)]
    return kind, histories, draw(st.booleans())


def _orders(folder: Path, histories: list[list[int]], free: bool) -> Path:
    end = datetime.fromisoformat(AS_OF).replace(hour=12, tzinfo=UTC)
    lines = [
        [f"{c}-{k}", f"C{c}", (end - timedelta(days=d)).isoformat(), "0.00" if free else "19.90"]
        for c, days in enumerate(histories)
        for k, d in enumerate(days)
    ]
    return write_csv(folder, "o.csv", ["order_id", "customer_id", "ordered_at", "amount"], lines)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(store=hostile_stores())
def test_hostile_small_stores_finish_with_values_or_a_reason(
    store: tuple[str, list[list[int]], bool],
) -> None:
    kind, histories, free = store
    with tempfile.TemporaryDirectory() as folder:
        db = new_store(Path(folder) / "store.db")
        engine = make_engine(db)
        ensure_current(engine)
        run_import(engine, "orders", _orders(Path(folder), histories, free), create_missing=True)

        started = time.process_time()
        report = _score(db)
        seconds = time.process_time() - started

        _check_values_or_reasons(engine, report)
        engine.dispose()
    assert seconds < 10, f"{kind}: {seconds:.1f} s"


def test_scoring_small_stores_stays_within_500_mb(tmp_path: Path) -> None:
    """Peak memory of whole `relmark score` processes (imports included) on small shops."""
    peaks = []
    for shape, make in SHAPES.items():
        db = new_store(tmp_path / (shape.replace(" ", "_") + ".db"))
        orders = write_orders(tmp_path / f"{shape}.csv", make())
        CliRunner().invoke(app, ["import", "orders", str(orders), "--create-missing", "--db", db])
        command = [sys.executable, "-m", "relmark", "score", "--db", db, "--as-of", AS_OF]
        done = subprocess.run(
            # A small launcher reports its one child's peak: this test process's own
            # RUSAGE_CHILDREN holds the largest of every child the suite ran before (Spark…).
            [sys.executable, "-c", _PEAK_OF_CHILD, *command, "--json"],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(SRC)},
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        peaks.append(int(done.stderr.strip().splitlines()[-1].removeprefix("peak-kb ")) / 1024)
    assert max(peaks) < 500, f"peak {max(peaks):.0f} MB"


_PEAK_OF_CHILD = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
    "print('peak-kb', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def test_a_fit_over_its_time_budget_is_a_stated_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relmark.differentiate import selection

    db = new_store(tmp_path / "shop.db")
    orders = write_orders(tmp_path / "orders.csv", SHAPES["heterogeneous churn"]())
    CliRunner().invoke(app, ["import", "orders", str(orders), "--create-missing", "--db", db])
    monkeypatch.setattr(selection, "FIT_SECONDS_BASE", -1.0)  # every deadline already past

    report = _score(db)

    assert report["model"] == "none"
    assert {c["reason"].split(" (")[0] for c in report["selection"]["candidates"]} == {
        "the fit took more than -1 s of computing"
    }
    assert sum(report["segments"].values()) == report["customers"]
