"""Defaults that light code paths need without loading the settings machinery (pydantic)."""

import os

DEFAULT_DATABASE_URL = "sqlite:///relmark.db"
DATABASE_URL_VARIABLE = "RELMARK_DATABASE_URL"


def database_url_from_environment() -> str:
    """The store URL as `Settings` reads it (variable names are case-insensitive there too)."""
    for key, value in os.environ.items():
        if key.upper() == DATABASE_URL_VARIABLE:
            return value
    return DEFAULT_DATABASE_URL
