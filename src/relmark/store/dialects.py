"""The few per-backend SQL differences, in one place."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection


@dataclass(frozen=True)
class Dialect:
    name: str

    def json_object(self, pairs: dict[str, str]) -> str:
        """SQL that builds a JSON object from key → SQL expression."""
        args = ", ".join(f"'{k}', {v}" for k, v in pairs.items())
        return (
            f"jsonb_build_object({args})" if self.name == "postgresql" else f"json_object({args})"
        )

    def add_months(self, column: str, months: int) -> str:
        """SQL for timestamp `column` plus whole `months`, a month-end clamped as PostgreSQL
        does (31 Jan + 1 month = 28/29 Feb). SQLite keeps timestamps as 'YYYY-MM-DD
        HH:MM:SS.ffffff' text: the date part moves, the time part is kept as it was."""
        months = int(months)
        if self.name == "postgresql":
            return f"({column} + make_interval(months => {months}))"
        # Days up to the 28th exist in every month: integer arithmetic on the text is enough
        # (date() costs microseconds a row). Later days go through date() and are clamped;
        # only the date part goes through it, which would round .999999 s up to a new day.
        total = (
            f"(CAST(substr({column}, 1, 4) AS INTEGER) * 12 "
            f"+ CAST(substr({column}, 6, 2) AS INTEGER) - 1 + {months})"
        )
        fast = (
            f"(CAST(substr({column}, 1, 4) AS INTEGER) + {months // 12}) || substr({column}, 5)"
            if months % 12 == 0  # whole years (the usual expiry): only the year moves
            else f"printf('%04d-%02d', {total} / 12, {total} % 12 + 1) || substr({column}, 8)"
        )
        moved = f"date(substr({column}, 1, 10), '{months:+d} months')"
        clamped = (
            f"CASE WHEN substr({moved}, 9, 2) = substr({column}, 9, 2) THEN {moved} "
            f"ELSE date({moved}, 'start of month', '-1 day') END"
        )
        return (
            f"(CASE WHEN substr({column}, 9, 2) <= '28' THEN {fast} "
            f"ELSE {clamped} || substr({column}, 11) END)"
        )

    def floor_int(self, expression: str) -> str:
        """SQL for the largest integer not above a non-negative numeric `expression`."""
        if self.name == "postgresql":
            return f"CAST(FLOOR({expression}) AS BIGINT)"
        return f"CAST({expression} AS INTEGER)"


def dialect_of(connection: Connection) -> Dialect:
    return Dialect(connection.dialect.name)
