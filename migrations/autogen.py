"""Print Alembic ops for tables that the models have and the migrated schema lacks.

Usage: ``.venv/bin/python migrations/autogen.py`` — paste the output into your package's
migration file (each package owns one file in ``migrations/versions``).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alembic.autogenerate import produce_migrations, render_python_code
from alembic.migration import MigrationContext

from propusk.db import make_engine
from propusk.migrate import upgrade
from propusk.models import metadata


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/autogen.db"
        upgrade(url)
        engine = make_engine(url)
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn)
            ops = produce_migrations(ctx, metadata).upgrade_ops
            code = render_python_code(ops).replace("propusk.db.UTCDateTime", "UTCDateTime")
        engine.dispose()
    print(code)


if __name__ == "__main__":
    main()
