"""The schema comes from Alembic migrations, up from empty, on every backend."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from relmark.store.db import make_engine
from relmark.store.migrate import current_revision, head_revision, upgrade
from relmark.store.models import Base


def test_migrations_build_the_models_schema_from_empty(store_url: str) -> None:
    # given an empty database
    engine = make_engine(store_url)
    assert current_revision(engine) is None

    # when it is upgraded twice
    first = upgrade(engine)
    second = upgrade(engine)

    # then the first run creates, the second changes nothing, and the schema is the models'
    assert first == (None, head_revision())
    assert second == (head_revision(), head_revision())
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_the_quick_head_check_agrees_with_alembic() -> None:
    # given the shipped migration files, read by Alembic itself
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from relmark.store.migrate import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))

    # then the revision every command checks (read without Alembic) is Alembic's head
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()


def test_an_older_store_is_refused_and_init_upgrades_it(tmp_path) -> None:
    # given a store whose schema is one migration behind
    from alembic import command

    from relmark.errors import StoreError
    from relmark.store.migrate import alembic_config, ensure_current

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(alembic_config(engine), "head")
    command.downgrade(alembic_config(engine), "-1")
    older = current_revision(engine)
    assert older is not None
    assert older != head_revision()

    # when a command checks it, it is refused; after `init` (upgrade) it is accepted
    with pytest.raises(StoreError, match=f"schema revision {older}, this relmark needs"):
        ensure_current(engine)
    assert upgrade(engine) == (older, head_revision())
    ensure_current(engine)
    engine.dispose()
