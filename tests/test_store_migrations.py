"""The schema comes from Alembic migrations, up from empty, on every backend."""

from __future__ import annotations

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
