"""Schema migrations with Alembic, driven from code so that `relmark init` needs no ini file.

Every command checks that the store is current before it runs; that check reads the revision
ids straight from the migration files and the `alembic_version` table, because importing
Alembic (and Mako) costs more than the quickest commands take. Alembic itself runs only
when there is something to migrate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import inspect, text

from relmark.errors import StoreError
from relmark.store.revisions import MIGRATIONS, bare_config, head_revision

__all__ = ["MIGRATIONS", "current_revision", "ensure_current", "head_revision", "upgrade"]

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Engine

VERSION_TABLE = "alembic_version"


def alembic_config(engine: Engine) -> Config:
    config = bare_config()
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    """The store's schema revision; None for a database relmark has never set up."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    if len(rows) > 1:
        raise StoreError(
            f"the store has {len(rows)} schema revisions ({', '.join(r[0] for r in rows)}): "
            "relmark's migrations form one line, so this needs fixing by hand"
        )
    return rows[0][0] if rows else None


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Create or upgrade the schema to the newest revision; idempotent. Returns (before, after)."""
    from alembic import command

    before = current_revision(engine)
    command.upgrade(alembic_config(engine), "head")
    return before, head_revision()


def ensure_current(engine: Engine) -> None:
    """Create an empty store on first use; refuse to run on an older schema without `init`."""
    revision = current_revision(engine)
    if revision is None:
        upgrade(engine)
    elif revision != head_revision():
        raise StoreError(
            f"the store is at schema revision {revision}, this relmark needs {head_revision()}: "
            "run `relmark init` to upgrade it"
        )
