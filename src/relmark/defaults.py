"""Defaults that light code paths need without loading the settings machinery (pydantic:
~0.1 s, as much as `relmark status` or a small `relmark clv fit` may take in all)."""

import os

DEFAULT_DATABASE_URL = "sqlite:///relmark.db"
DEFAULT_TIMEZONE = "UTC"
PREFIX = "RELMARK_"


def from_environment(name: str, default: str) -> str:
    """RELMARK_<NAME> as `Settings` reads it (variable names are case-insensitive there too)."""
    wanted = (PREFIX + name).upper()
    for key, value in os.environ.items():
        if key.upper() == wanted:
            return value
    return default


def database_url_from_environment() -> str:
    return from_environment("database_url", DEFAULT_DATABASE_URL)


def timezone_from_environment() -> str:
    return from_environment("timezone", DEFAULT_TIMEZONE)
