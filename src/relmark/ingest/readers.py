"""Files → Polars frames of text columns, each row knowing the line it came from.

Everything is read as text: typing is the validator's job, so that a bad value is reported
with its line instead of making the whole read fail.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from relmark.enums import FileFormat
from relmark.errors import InvalidInput, Problem

LINE = "__line"


@dataclass
class RawTable:
    """A file's rows as text, with `__line` (1-based line, or row for Parquet)."""

    frame: pl.DataFrame
    where: str
    format: FileFormat


def guess_format(path: Path) -> FileFormat:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return FileFormat.PARQUET
    if suffix in (".jsonl", ".ndjson", ".json"):
        return FileFormat.JSONL
    return FileFormat.CSV


def read_text_bytes(path: Path, encoding: str | None) -> bytes:
    """The file as UTF-8 bytes without BOM; a clear error names the line of a bad byte."""
    where = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput.single(where, "no such file") from None
    except IsADirectoryError:
        raise InvalidInput.single(where, "is a folder, not a file") from None
    except OSError as exc:
        raise InvalidInput.single(where, f"cannot be read: {exc.strerror}") from None
    if not data.strip():
        raise InvalidInput.single(where, "the file is empty")
    if encoding and encoding.lower().replace("-", "").replace("_", "") not in ("utf8", "utf8sig"):
        try:
            return data.decode(encoding).encode("utf-8")
        except LookupError:
            raise InvalidInput.single(where, f"unknown encoding {encoding!r}") from None
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise InvalidInput.single(
                where, f"byte 0x{data[exc.start]:02x} is not valid {encoding}", line
            ) from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidInput.single(
            where, "the file is UTF-16; save it as UTF-8 or pass --encoding utf-16"
        )
    try:
        if not data.isascii():  # ASCII is UTF-8: a fast scan spares decoding the whole file
            data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InvalidInput.single(
            where,
            f"byte 0x{data[exc.start]:02x} is not valid UTF-8; the file is in another "
            "encoding (often cp1252 or latin-1): save it as UTF-8 or pass --encoding cp1252",
            line,
        ) from None
    return data


def read_csv(path: Path, encoding: str | None = None, separator: str = ",") -> RawTable:
    data = read_text_bytes(path, encoding)
    where = str(path)
    try:
        frame = pl.read_csv(
            io.BytesIO(data),
            infer_schema=False,
            separator=separator,
            truncate_ragged_lines=False,
        )
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        raise _csv_shape_error(where, data, separator, exc) from None
    _check_headers(where, frame.columns)
    return RawTable(_with_lines(frame, data, separator), where, FileFormat.CSV)


def _check_headers(where: str, headers: list[str]) -> None:
    blanks = [i + 1 for i, h in enumerate(headers) if not h.strip()]
    if blanks:
        raise InvalidInput.single(
            where, f"header has an empty column name at position {blanks[0]}", 1
        )


def _with_lines(frame: pl.DataFrame, data: bytes, separator: str) -> pl.DataFrame:
    """Attach source line numbers; only files with line breaks inside fields need a scan."""
    text_columns = [c for c, t in frame.schema.items() if t == pl.String]
    multiline = (
        bool(text_columns)
        and b'"' in data  # a line break inside a field needs quotes around the field
        and frame.select(
            pl.any_horizontal(pl.col(text_columns).str.contains("\n").fill_null(False)).any()
        ).item()
    )
    blank_lines = b"\n\n" in data or b"\n\r\n" in data
    if not multiline and not blank_lines:
        return frame.with_row_index(LINE, offset=2).with_columns(pl.col(LINE).cast(pl.Int64))
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=separator)
    next(reader)
    starts, blank = [], []
    line = reader.line_num + 1
    for row in reader:
        starts.append(line)
        blank.append(not row)
        line = reader.line_num + 1
    if len(starts) == frame.height:  # Polars keeps a blank line as a row of nulls: drop it
        return frame.with_columns(pl.Series(LINE, starts, dtype=pl.Int64)).filter(
            ~pl.Series(blank, dtype=pl.Boolean)
        )
    kept = [start for start, empty in zip(starts, blank, strict=True) if not empty]
    return frame.with_columns(pl.Series(LINE, kept[: frame.height], dtype=pl.Int64))


def _csv_shape_error(where: str, data: bytes, separator: str, exc: Exception) -> InvalidInput:
    """Find the first row whose field count differs from the header's, for a precise message."""
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=separator)
    try:
        header = next(reader)
        start = reader.line_num + 1
        for row in reader:
            if row and len(row) != len(header):
                return InvalidInput.single(
                    where, f"has {len(row)} fields, the header has {len(header)}", start
                )
            start = reader.line_num + 1
    except csv.Error as csv_exc:
        return InvalidInput.single(where, f"malformed CSV: {csv_exc}", reader.line_num)
    return InvalidInput.single(where, f"malformed CSV: {str(exc).splitlines()[0]}")


def read_jsonl(path: Path, encoding: str | None = None) -> RawTable:
    data = read_text_bytes(path, encoding)
    where = str(path)
    rows: list[dict[str, str | None]] = []
    lines: list[int] = []
    problems: list[Problem] = []
    for number, raw in enumerate(data.decode("utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            problems.append(Problem(where, f"not valid JSON: {exc.msg}", number))
            continue
        if not isinstance(record, dict):
            problems.append(Problem(where, "each line must be a JSON object", number))
            continue
        rows.append({str(k): _json_text(v) for k, v in record.items()})
        lines.append(number)
    if problems:
        raise InvalidInput(problems[:20], total=len(problems))
    frame = pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()
    frame = frame.with_columns(pl.Series(LINE, lines, dtype=pl.Int64))
    return RawTable(frame, where, FileFormat.JSONL)


def _json_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def read_parquet(path: Path) -> RawTable:
    where = str(path)
    try:
        frame = pl.read_parquet(path)
    except FileNotFoundError:
        raise InvalidInput.single(where, "no such file") from None
    except Exception as exc:  # polars raises several kinds for a non-Parquet file
        raise InvalidInput.single(where, f"not a readable Parquet file: {exc}") from None
    casts = []
    for name, dtype in frame.schema.items():
        if dtype.is_temporal() and dtype != pl.Date:
            casts.append(pl.col(name).dt.to_string("%Y-%m-%dT%H:%M:%S%.f%z").alias(name))
        elif isinstance(dtype, pl.Struct | pl.List):
            casts.append(
                pl.col(name)
                .map_elements(
                    lambda v: json.dumps(v, ensure_ascii=False, sort_keys=True, default=str),
                    return_dtype=pl.String,
                )
                .alias(name)
            )
        else:
            casts.append(pl.col(name).cast(pl.String).alias(name))
    frame = frame.select(casts).with_row_index(LINE, offset=1)
    return RawTable(frame.with_columns(pl.col(LINE).cast(pl.Int64)), where, FileFormat.PARQUET)


def read_cdnow(path: Path) -> RawTable:
    """CDNOW transactions: whitespace columns customer, [sample id,] YYYYMMDD, quantity, amount."""
    data = read_text_bytes(path, None)
    lines = pl.DataFrame({"raw": data.decode("utf-8").splitlines()}, schema={"raw": pl.String})
    parts = (
        lines.with_row_index(LINE, offset=1)
        .with_columns(pl.col(LINE).cast(pl.Int64), pl.col("raw").str.extract_all(r"\S+").alias("p"))
        .filter(pl.col("p").list.len() > 0)
        .with_columns(pl.col("p").list.len().alias("n"))
    )
    bad = parts.filter(~pl.col("n").is_in([4, 5]))
    if bad.height:
        problems = [
            Problem(str(path), f"expected 4 or 5 whitespace-separated columns, found {n}", line)
            for line, n in bad.select(LINE, "n").head(20).iter_rows()
        ]
        raise InvalidInput(problems, total=bad.height)
    skip = (pl.col("n") == 5).cast(pl.Int32)
    frame = parts.select(
        pl.col("p").list.get(0).alias("customer_id"),
        pl.col("p").list.get(1 + skip).alias("date"),
        pl.col("p").list.get(2 + skip).alias("quantity"),
        pl.col("p").list.get(3 + skip).alias("amount"),
        pl.col(LINE),
    )
    return RawTable(frame, str(path), FileFormat.CDNOW)


def read_file(path: Path, file_format: FileFormat, encoding: str | None = None) -> RawTable:
    if file_format in (FileFormat.CSV, FileFormat.SHOPIFY):
        table = read_csv(path, encoding)
        table.format = file_format
        return table
    if file_format == FileFormat.JSONL:
        return read_jsonl(path, encoding)
    if file_format == FileFormat.PARQUET:
        return read_parquet(path)
    return read_cdnow(path)
