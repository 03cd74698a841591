"""Schema migrations with Alembic, driven from code so that `relmark init` needs no ini file.

Every command checks that the store is current before it runs; that check reads the revision
ids straight from the migration files and the `alembic_version` table, because importing
Alembic (and Mako) costs more than the quickest commands take. Alembic itself runs only
when there is something to migrate.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text

from relmark.errors import StoreError

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"
_NOT_A_LITERAL = object()  # a computed revision id: Alembic must read the files


def alembic_config(engine: Engine) -> Config:
    config = _bare_config()
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest revision of the migration files (one head; Alembic decides if in doubt)."""
    return _file_head() or _alembic_head()


def _alembic_head() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_bare_config()).get_current_head()
    assert head is not None
    return head


@lru_cache(maxsize=1)
def _file_head() -> str | None:
    """The one revision no other file names as its `down_revision`, read with `ast`.

    None when the files do not say it plainly (several heads, a computed id): then Alembic's
    own reading decides.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        values = _module_constants(path, ("revision", "down_revision"))
        revision, down = values.get("revision"), values.get("down_revision")
        if not isinstance(revision, str):
            return None
        revisions.add(revision)
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list):
            parents.update(down)
        elif down is not None:
            return None
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _module_constants(path: Path, names: tuple[str, ...]) -> dict[str, object]:
    """Literal module-level assignments (plain or annotated) of `names` in a Python file."""
    found: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in names:
            try:
                found[target.id] = ast.literal_eval(value)
            except ValueError:
                found[target.id] = _NOT_A_LITERAL
    return found


def _bare_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
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
