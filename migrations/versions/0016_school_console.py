"""school_console: a school's legal address; proctor appointments waiting on roster rows

Revision ID: 0016
Revises: 0015

* ``school.address`` — the legal address as registered (shown on the school's profile);
* ``roster_entry.proctor_appointed_at`` / ``proctor_appointed_by`` — a teacher known only from
  the roster appointed proctor before their first login; the appointment becomes a ``proctor``
  status when the row is matched to the person (``idp.statuses.sync_roster_statuses``).
"""

import sqlalchemy as sa
from alembic import op

from propusk.db import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("school") as batch:
        batch.add_column(sa.Column("address", sa.String(length=1000), nullable=True))
    with op.batch_alter_table("roster_entry") as batch:
        batch.add_column(sa.Column("proctor_appointed_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("proctor_appointed_by", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("roster_entry") as batch:
        batch.drop_column("proctor_appointed_by")
        batch.drop_column("proctor_appointed_at")
    with op.batch_alter_table("school") as batch:
        batch.drop_column("address")
