"""Each class of bad input gets a precise message with file and line, and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from relmark.errors import InvalidInput

from .helpers import run_import, snapshot, write_csv

ORDER = ["order_id", "customer_id", "ordered_at", "amount", "currency"]

CASES = [
    (
        "not_a_number",
        "orders",
        ORDER,
        [["O1", "C1", "2026-01-05", "abc", "EUR"]],
        "orders.csv:2: column 'amount': 'abc': is not a number (write 1234.50: a dot for "
        "decimals, no thousands separators)",
    ),
    (
        "thousands_separator",
        "orders",
        ORDER,
        [["O1", "C1", "2026-01-05", "1,234.50", "EUR"]],
        "orders.csv:2: column 'amount': '1,234.50': is not a number",
    ),
    (
        "too_many_decimals",
        "orders",
        ORDER,
        [["O1", "C1", "2026-01-05", "1.005", "EUR"]],
        "orders.csv:2: column 'amount': '1.005': has more decimals than EUR allows (2)",
    ),
    (
        "yen_has_no_cents",
        "orders",
        ORDER,
        [["O1", "C1", "2026-01-05", "100.5", "JPY"]],
        "orders.csv:2: column 'amount': '100.5': has more decimals than JPY allows (0)",
    ),
    (
        "negative_amount",
        "orders",
        ORDER,
        [["O1", "C1", "2026-01-05", "-5", "EUR"]],
        "orders.csv:2: column 'amount': '-5': must not be negative",
    ),
    (
        "unknown_currency",
        "orders",
        ORDER,
        [["O1", "C1", "2026-01-05", "5", "EUX"]],
        "orders.csv:2: column 'currency': 'EUX': is not an ISO 4217 currency code",
    ),
    (
        "bad_date",
        "orders",
        ORDER,
        [["O1", "C1", "2026-13-45", "5", "EUR"]],
        "orders.csv:2: column 'ordered_at': '2026-13-45': is not a date-time",
    ),
    (
        "empty_required",
        "orders",
        ORDER,
        [["O1", "", "2026-01-05", "5", "EUR"]],
        "orders.csv:2: column 'customer_id': is empty; a value is required",
    ),
    (
        "duplicate_order",
        "orders",
        ORDER,
        [["O1", "C1", "2026-01-05", "5", "EUR"], ["O1", "C1", "2026-01-06", "6", "EUR"]],
        "orders.csv:3: column 'order_id': duplicate order_id 'O1' (first on line 2)",
    ),
    (
        "negative_quantity",
        "orders",
        ["order_id", "customer_id", "ordered_at", "sku", "quantity", "unit_price"],
        [["O1", "C1", "2026-01-05", "S1", "-2", "5"]],
        "orders.csv:2: column 'quantity': '-2': must not be negative",
    ),
    (
        "fractional_quantity",
        "orders",
        ["order_id", "customer_id", "ordered_at", "sku", "quantity", "unit_price"],
        [["O1", "C1", "2026-01-05", "S1", "1.5", "5"]],
        "orders.csv:2: column 'quantity': '1.5': is not a whole number",
    ),
    (
        "unknown_status",
        "orders",
        [*ORDER, "status"],
        [["O1", "C1", "2026-01-05", "5", "EUR", "lost"]],
        "orders.csv:2: column 'status': 'lost': is not an order status (completed, pending, "
        "cancelled, returned, refunded, partially_refunded)",
    ),
    (
        "unknown_column",
        "customers",
        ["customer_id", "shoe_size"],
        [["C1", "42"]],
        "customers.csv:1: unknown column(s) 'shoe_size': map them with --map FIELD=COLUMN, or "
        "pass --extra ignore (or --extra attributes to keep them on the customer)",
    ),
    (
        "missing_required",
        "orders",
        ["order_id", "ordered_at", "amount"],
        [["O1", "2026-01-05", "5"]],
        "orders.csv:1: missing required column 'customer_id' (also recognised: customer, "
        "client_id, user_id, customer_no)",
    ),
    (
        "two_columns_one_field",
        "customers",
        ["customer_id", "email", "E-Mail"],
        [["C1", "a@example.com", "b@example.com"]],
        "customers.csv:1: columns 'email' and 'E-Mail' both mean 'email'",
    ),
    (
        "future_birthday",
        "customers",
        ["customer_id", "birthday"],
        [["C1", "2999-01-01"]],
        "customers.csv:2: column 'birthday': '2999-01-01': is in the future",
    ),
    (
        "bad_country",
        "customers",
        ["customer_id", "country"],
        [["C1", "Atlantis"]],
        "customers.csv:2: column 'country': 'Atlantis': is not a country",
    ),
    (
        "bad_language",
        "customers",
        ["customer_id", "language"],
        [["C1", "xx-QQ"]],
        "customers.csv:2: column 'language': 'xx-QQ': is not a language tag",
    ),
    (
        "bad_timezone",
        "customers",
        ["customer_id", "timezone"],
        [["C1", "Mars/Olympus"]],
        "customers.csv:2: column 'timezone': 'Mars/Olympus': is not an IANA time zone",
    ),
    (
        "control_characters",
        "customers",
        ["customer_id", "first_name"],
        [["C1", "Ann\x00a"]],
        "customers.csv:2: column 'first_name': 'Ann?a': contains control characters",
    ),
    (
        "overlong",
        "customers",
        ["customer_id", "first_name"],
        [["C1", "x" * 500]],
        f"customers.csv:2: column 'first_name': '{'x' * 57}...': is longer than 200 characters",
    ),
    (
        "bad_partner_kind",
        "partners",
        ["partner_id", "name", "kind"],
        [["P1", "Acme", "friend"]],
        "partners.csv:2: column 'kind': 'friend': is not a partner kind (supplier, distributor, "
        "channel, agency, intermediary)",
    ),
    (
        "bad_url",
        "products",
        ["sku", "name", "howto_url"],
        [["S1", "Mug", "javascript:alert(1)"]],
        "products.csv:2: column 'howto_url': 'javascript:alert(1)': is not an http(s) URL",
    ),
    (
        "duplicate_sku",
        "products",
        ["sku", "name"],
        [["S1", "Mug"], ["S1", "Cup"]],
        "products.csv:3: column 'sku': duplicate sku 'S1' (first on line 2)",
    ),
]


@pytest.mark.parametrize(
    ("kind", "header", "data", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_rows_are_refused_with_a_precise_message(
    sqlite_engine: Engine, tmp_path, kind, header, data, expected
) -> None:
    path = write_csv(tmp_path, f"{kind}.csv", header, data)
    before = snapshot(sqlite_engine)

    with pytest.raises(InvalidInput) as caught:
        run_import(sqlite_engine, kind, path)

    assert str(caught.value).startswith(f"{tmp_path}/{expected}")
    assert snapshot(sqlite_engine) == before


def test_many_problems_show_twenty_and_a_count(sqlite_engine: Engine, tmp_path) -> None:
    path = write_csv(
        tmp_path,
        "orders.csv",
        ORDER,
        [[f"O{i}", "C1", "2026-01-05", "x", "EUR"] for i in range(30)],
    )

    with pytest.raises(InvalidInput) as caught:
        run_import(sqlite_engine, "orders", path)

    lines = str(caught.value).splitlines()
    assert len(lines) == 21
    assert lines[-1] == "... and 10 more problems (30 in all)"
    assert lines[0].startswith(f"{path}:2: column 'amount'")


def test_wrong_encoding_names_the_line(sqlite_engine: Engine, tmp_path) -> None:
    path = tmp_path / "customers.csv"
    path.write_bytes("customer_id,first_name\nC1,Ana\nC2,Bo\u017eo\n".encode("cp1250"))

    with pytest.raises(InvalidInput) as caught:
        run_import(sqlite_engine, "customers", path)

    assert str(caught.value) == (
        f"{path}:3: byte 0x9e is not valid UTF-8; the file is in another encoding (often "
        "cp1252 or latin-1): save it as UTF-8 or pass --encoding cp1252"
    )


def test_declared_encoding_is_decoded(sqlite_engine: Engine, tmp_path) -> None:
    path = tmp_path / "customers.csv"
    path.write_bytes("customer_id,first_name\nC2,Bo\u017eo\n".encode("cp1250"))

    run_import(sqlite_engine, "customers", path, encoding="cp1250")

    from .helpers import rows

    assert rows(sqlite_engine, "SELECT first_name FROM customers") == [("Bo\u017eo",)]


def test_ragged_row_names_its_line(sqlite_engine: Engine, tmp_path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,email\nC1,a@example.com\nC2,b@example.com,extra\n")

    with pytest.raises(InvalidInput) as caught:
        run_import(sqlite_engine, "customers", path)

    assert str(caught.value) == f"{path}:3: has 3 fields, the header has 2"


def test_empty_file(sqlite_engine: Engine, tmp_path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("")

    with pytest.raises(InvalidInput, match="the file is empty"):
        run_import(sqlite_engine, "customers", path)


def test_missing_file(sqlite_engine: Engine, tmp_path) -> None:
    with pytest.raises(InvalidInput, match="no such file"):
        run_import(sqlite_engine, "customers", tmp_path / "nope.csv")


def test_line_numbers_survive_quoted_line_breaks(sqlite_engine: Engine, tmp_path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(
        'customer_id,address,birthday\nC1,"Jalan 1\nKuala Lumpur",1990-01-01\n'
        "C2,Main St,1990-02-31\n"
    )

    with pytest.raises(InvalidInput) as caught:
        run_import(sqlite_engine, "customers", path)

    assert str(caught.value).startswith(f"{path}:4: column 'birthday': '1990-02-31'")


def test_blank_lines_are_skipped_and_lines_still_counted(sqlite_engine: Engine, tmp_path) -> None:
    # given blank lines (Polars reads each as a row of nulls) around a quoted line break
    path = tmp_path / "customers.csv"
    path.write_text(
        'customer_id,address,birthday\n\nC1,"Jalan 1\nKuala Lumpur",1990-01-01\n\n\n'
        "C2,Main St,1990-02-31\n\n"
    )

    # then the bad row is named by its own line, not a crash or a shifted number
    with pytest.raises(InvalidInput) as caught:
        run_import(sqlite_engine, "customers", path)
    assert str(caught.value).startswith(f"{path}:7: column 'birthday': '1990-02-31'")

    # and once corrected, both customers are imported and the blank lines are not rows
    path.write_text(path.read_text().replace("1990-02-31", "1990-02-28"))
    report = run_import(sqlite_engine, "customers", path)
    assert snapshot(sqlite_engine)["customers"] == 2, report


def test_bad_json_line(sqlite_engine: Engine, tmp_path) -> None:
    path = tmp_path / "customers.jsonl"
    path.write_text('{"customer_id": "C1"}\n\n{"customer_id": "C2",}\n')

    with pytest.raises(InvalidInput) as caught:
        run_import(sqlite_engine, "customers", path)

    assert str(caught.value).startswith(f"{path}:3: not valid JSON")


def test_not_parquet(sqlite_engine: Engine, tmp_path) -> None:
    path = tmp_path / "customers.parquet"
    path.write_text("customer_id\nC1\n")

    with pytest.raises(InvalidInput, match="not a readable Parquet file"):
        run_import(sqlite_engine, "customers", path)


def test_bad_map_option(sqlite_engine: Engine, tmp_path) -> None:
    path = write_csv(tmp_path, "c.csv", ["customer_id"], [["C1"]])

    with pytest.raises(InvalidInput) as caught:
        run_import(sqlite_engine, "customers", path, mapping=["shoe=customer_id"])

    assert str(caught.value).startswith("--map: 'shoe' is not a customers field")
