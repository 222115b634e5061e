"""operator_console: operator staff acknowledge withdrawals in their console

Revision ID: 0018
Revises: 0017

``consent_withdrawal_ack``: one row per acknowledged feed event (a withdrawal or a demand to
stop processing) — the operator's staff member who said processing has stopped, and when.
"""

import sqlalchemy as sa
from alembic import op

from propusk.db import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_withdrawal_ack",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("operator_id", sa.Uuid(), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["consent_event.id"],
            name=op.f("fk_consent_withdrawal_ack_event_id_consent_event"),
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_consent_withdrawal_ack")),
    )
    op.create_index(
        op.f("ix_consent_withdrawal_ack_operator_id"),
        "consent_withdrawal_ack",
        ["operator_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_consent_withdrawal_ack_operator_id"), table_name="consent_withdrawal_ack"
    )
    op.drop_table("consent_withdrawal_ack")
