"""The newest schema revision, read straight from the migration files.

Every command checks that the store is current; importing Alembic (and Mako) — or even
SQLAlchemy, for `relmark status` — costs more than the quickest commands take, so the
revision ids are read with `ast`. Alembic itself decides only when the files are not plain.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
_NOT_A_LITERAL = object()  # a computed revision id: Alembic must read the files


def head_revision() -> str:
    """The newest revision of the migration files (one head; Alembic decides if in doubt)."""
    return _file_head() or _alembic_head()


def _alembic_head() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(bare_config()).get_current_head()
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


def bare_config() -> Config:
    """Alembic's configuration of the shipped migrations (Alembic loads only here)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config
