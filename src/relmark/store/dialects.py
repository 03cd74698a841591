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


def dialect_of(connection: Connection) -> Dialect:
    return Dialect(connection.dialect.name)
