"""File headers → canonical column names, with `--map FIELD=COLUMN` and clear refusals."""

from __future__ import annotations

from typing import Literal

import polars as pl

from relmark.enums import ImportKind
from relmark.errors import InvalidInput
from relmark.ingest.contracts import Contract, fold
from relmark.ingest.readers import LINE, RawTable

Extra = Literal["error", "ignore", "attributes"]


def parse_mapping(pairs: list[str], contract: Contract) -> dict[str, str]:
    """`["email=E-Mail Address"]` → `{"email": "E-Mail Address"}`, checking the field names."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        field, column = field.strip(), column.strip()
        if not sep or not field or not column:
            raise InvalidInput.single("--map", f"{pair!r} is not FIELD=COLUMN")
        if field not in contract.by_name:
            fields = ", ".join(contract.by_name)
            raise InvalidInput.single(
                "--map", f"{field!r} is not a {contract.kind.value} field (fields: {fields})"
            )
        mapping[field] = column
    return mapping


def to_canonical(
    table: RawTable, contract: Contract, mapping: dict[str, str], extra: Extra = "error"
) -> pl.DataFrame:
    """Rename the file's columns to canonical names; refuse unknown, doubled or missing ones."""
    where = table.where
    headers = [c for c in table.frame.columns if c != LINE]
    if extra == "attributes" and contract.kind != ImportKind.CUSTOMERS:
        raise InvalidInput.single("--extra", "attributes are kept for customers only")
    renames: dict[str, str] = {}
    for field, column in mapping.items():
        if column not in headers:
            raise InvalidInput.single(
                where,
                f"--map {field}={column}: the file has no column "
                f"{column!r} (it has: {', '.join(headers)})",
                1,
            )
        renames[column] = field
    synonyms = contract.synonym_map()
    unknown: list[str] = []
    for header in headers:
        if header in renames:
            continue
        canonical = synonyms.get(fold(header))
        if canonical is None or canonical in mapping:
            unknown.append(header)
            continue
        taken = [h for h, f in renames.items() if f == canonical]
        if taken:
            raise InvalidInput.single(
                where,
                f"columns {taken[0]!r} and {header!r} both mean {canonical!r}: "
                f"rename one, or choose with --map {canonical}=COLUMN",
                1,
            )
        renames[header] = canonical
    if unknown and extra == "error":
        names = ", ".join(repr(u) for u in unknown)
        hint = (
            " (or --extra attributes to keep them on the customer)"
            if (contract.kind == ImportKind.CUSTOMERS)
            else ""
        )
        raise InvalidInput.single(
            where,
            f"unknown column(s) {names}: map them with --map FIELD=COLUMN, or pass "
            f"--extra ignore{hint}; {contract.kind.value} fields are: "
            f"{', '.join(contract.by_name)}",
            1,
        )
    present = set(renames.values())
    for name in contract.required:
        if name not in present:
            also = contract.by_name[name].synonyms
            known = f" (also recognised: {', '.join(also)})" if also else ""
            raise InvalidInput.single(where, f"missing required column {name!r}{known}", 1)
    if contract.one_of and not any(set(group) <= present for group in contract.one_of):
        groups = " or ".join("+".join(g) for g in contract.one_of)
        raise InvalidInput.single(where, f"needs the column(s) {groups}", 1)
    frame = table.frame.select([pl.col(h).alias(f) for h, f in renames.items()] + [pl.col(LINE)])
    if unknown and extra == "attributes":
        frame = frame.with_columns(
            table.frame.select(pl.struct(unknown).struct.json_encode())
            .to_series()
            .alias("attributes")
        )
    return frame
