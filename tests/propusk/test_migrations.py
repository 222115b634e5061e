"""Migrations are the schema: after ``upgrade head`` the database matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from propusk.db import make_engine
from propusk.models import metadata


def test_migrated_schema_matches_models(db_url):
    engine = make_engine(db_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(ctx, metadata)
    engine.dispose()
    # Objects a migration adds beyond the models (triggers, functions) are not compared.
    assert diff == [], f"models and migrations differ: {diff}"
