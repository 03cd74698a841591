"""`relmark clv fit` on files: the analyst's entry point, JSON as documented."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from relmark.interfaces.cli import app

from .conftest import CDNOW

runner = CliRunner()
BASE = [
    "clv",
    "fit",
    "--transactions",
    str(CDNOW),
    "--format",
    "cdnow",
    "--calibration-end",
    "1997-09-30",
    "--json",
]


@pytest.mark.parametrize(
    ("model", "names"),
    [
        ("bgnbd", ["r", "alpha", "a", "b"]),
        ("pnbd", ["r", "alpha", "s", "beta"]),
        ("mbgnbd", ["r", "alpha", "a", "b"]),
        ("gg", ["p", "q", "gamma"]),
    ],
)
def test_fit_prints_the_documented_json(model: str, names: list[str]) -> None:
    result = runner.invoke(app, [*BASE, "--model", model, "--holdout-end", "1998-06-30"])

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["model"] == model
    assert list(data["params"]) == names
    assert data["n_customers"] == (946 if model == "gg" else 2357)
    assert data["fit_seconds"] < 5
    if model != "gg":
        assert data["holdout"]["actual_repeat_transactions"] == 1882
        assert data["holdout"]["duration"] == pytest.approx(39.0)
        assert 0 < data["holdout"]["mae_per_customer"] < 2


def test_bgnbd_on_cdnow_gives_the_published_log_likelihood() -> None:
    data = json.loads(runner.invoke(app, [*BASE, "--model", "bgnbd"]).stdout)

    assert data["log_likelihood"] == pytest.approx(-9582.4, abs=0.1)
    assert data["params"]["r"] == pytest.approx(0.243, rel=0.005)


def test_csv_with_named_columns_and_a_bad_row(tmp_path) -> None:
    path = tmp_path / "tx.csv"
    path.write_text("client,day,total\nA,2024-01-01,10\nA,2024-02-01,12.5\nB,2024-01-05,x\n")

    result = runner.invoke(
        app,
        [
            "clv",
            "fit",
            "--transactions",
            str(path),
            "--customer-col",
            "client",
            "--date-col",
            "day",
            "--amount-col",
            "total",
            "--calibration-end",
            "2024-03-01",
        ],
    )

    assert result.exit_code == 1
    assert f"{path}:4: column 'total': 'x' is not a number" in result.output


def test_unknown_model_and_missing_column_are_clear_errors(tmp_path) -> None:
    path = tmp_path / "tx.csv"
    path.write_text("customer_id,when,amount\nA,2024-01-01,10\n")

    no_column = runner.invoke(
        app, ["clv", "fit", "--transactions", str(path), "--calibration-end", "2024-03-01"]
    )
    bad_model = runner.invoke(app, [*BASE, "--model", "magic"])

    assert no_column.exit_code == 1
    assert "no column 'date'" in no_column.output
    assert bad_model.exit_code == 1
    assert "'magic' is not one of bgnbd, mbgnbd, pnbd, gg" in bad_model.output


def test_gamma_gamma_leaves_out_zero_spend_repeaters_and_counts_them(tmp_path) -> None:
    # 60 repeat buyers; the last two made only €0 repeat purchases (mean repeat spend 0)
    rng = np.random.default_rng(4)
    lines = ["customer_id,date,amount"]
    for customer in range(60):
        level = rng.gamma(3.0, 10.0)
        for month in range(1, 2 + int(rng.integers(1, 4))):
            amount = 0.0 if customer >= 58 and month > 1 else round(rng.gamma(6.0, level / 6), 2)
            lines.append(f"C{customer},2024-{month:02d}-{1 + customer % 28:02d},{amount}")
    path = tmp_path / "tx.csv"
    path.write_text("\n".join(lines) + "\n")

    result = runner.invoke(
        app,
        ["clv", "fit", "--transactions", str(path), "--calibration-end", "2024-12-01"]
        + ["--model", "gg", "--json"],
    )

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["n_customers"] == 58
    assert data["excluded_customers"] == 2
    assert "2 customers" in data["note"]


def test_analysis_errors_do_not_say_nothing_was_changed(tmp_path) -> None:
    path = tmp_path / "tx.csv"
    path.write_text("customer_id,date,amount\nA,2024-01-01,10\n")

    result = runner.invoke(
        app,
        ["clv", "fit", "--transactions", str(path), "--calibration-end", "2024-03-01"]
        + ["--model", "gg"],
    )

    assert result.exit_code == 1
    assert "gamma-gamma needs at least 2 customers" in result.output
    assert "nothing was changed" not in result.output


@pytest.mark.parametrize("timezone", ["UTC", "Europe/Berlin", "America/New_York"])
def test_transaction_dates_take_fast_paths_with_the_same_result(timezone) -> None:
    import polars as pl

    from relmark.ingest.transactions import _timestamps
    from relmark.ingest.validate import parse_timestamp

    text = pl.Series(
        ["2024-05-31", "2024-05-31T14:30:00Z", "20240531", "2024-05-31 14:30", "not a date"]
        + ["2024-05-31T14:30:00+02:00", None, "2024-03-31", "2024-10-27", "2024-03-10"]
    )

    fast = _timestamps(text, timezone)

    regular = text.to_frame("t").select(parse_timestamp(pl.col("t"), timezone))["t"]
    assert fast.to_list() == regular.to_list()


@pytest.mark.parametrize(
    "body",
    [
        # clean: the streaming pass reads it; spaces, quotes and a BOM-free header
        'customer_id,date,amount\nA, 2024-01-01 ,10\n"B",2024-01-05T10:00:00+02:00,12.5\n'
        "A,2024-02-01,-3\n",
        # a date in another shape, a blank line, a line break inside a quoted field: careful path
        'customer_id,date,amount,note\nA,2024-01-02 14:30,10,x\n\nB,2024-01-05,12,"two\nlines"\n',
        "\ufeffcustomer_id,date,amount\nA,2024-01-01,10\n",
    ],
)
def test_the_streaming_reader_and_the_careful_reader_agree(tmp_path, body: str) -> None:
    from relmark.ingest import transactions

    path = tmp_path / "tx.csv"
    path.write_text(body, encoding="utf-8")

    read = transactions.read_transactions(path, timezone="Europe/Berlin")

    careful = transactions._read_clean_csv
    try:
        transactions._read_clean_csv = lambda *args: None  # type: ignore[assignment]
        expected = transactions.read_transactions(path, timezone="Europe/Berlin")
    finally:
        transactions._read_clean_csv = careful  # type: ignore[assignment]
    assert read.to_dicts() == expected.to_dicts()
    assert read.schema == expected.schema


def test_the_streaming_reader_declines_what_needs_the_careful_reader(tmp_path) -> None:
    from relmark.ingest.transactions import _read_clean_csv

    cases = {
        "bad amount": "customer_id,date,amount\nA,2024-01-01,1e5\n",
        "empty customer": "customer_id,date,amount\n ,2024-01-01,10\n",
        "other date shape": "customer_id,date,amount\nA,31.01.2024,10\n",
        "missing column": "client,date,amount\nA,2024-01-01,10\n",
        "no rows": "customer_id,date,amount\n",
    }
    for name, body in cases.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(body, encoding="utf-8")
        assert _read_clean_csv(path, "customer_id", "date", "amount", "UTC") is None, name
    latin = tmp_path / "latin.csv"
    latin.write_bytes("customer_id,date,amount\nJosé,2024-01-01,10\n".encode("latin-1"))
    assert _read_clean_csv(latin, "customer_id", "date", "amount", "UTC") is None
