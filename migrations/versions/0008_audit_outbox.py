"""audit_outbox

Revision ID: 0008
Revises: 0007

The audit outbox (``audit_pending``): events recorded in their change's transaction without
taking the sequencer lock, integrated into the Merkle log later in ``seq`` order. Plus the id
of the ``gate.decision`` event on each transfer record, so a participant's history entry can
carry its inclusion proof. On PostgreSQL, ``consent_gate_rows``: the gate's shared subject
lock and its read of the consent rows in one round trip (see ``consent.gate``).
"""

import sqlalchemy as sa
from alembic import op

from propusk.db import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


# A VOLATILE plpgsql function runs each statement with a fresh READ COMMITTED snapshot, so the
# SELECT below sees everything committed before the lock was granted: the same guarantee as the
# two separate statements, one round trip instead of two.
GATE_ROWS = """
CREATE OR REPLACE FUNCTION consent_gate_rows(
    p_subject uuid, p_operator uuid, p_purpose text, p_class integer, p_key integer
) RETURNS SETOF consent LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(p_class, p_key);
    RETURN QUERY SELECT * FROM consent
        WHERE subject_id = p_subject AND operator_id = p_operator AND purpose_key = p_purpose
        ORDER BY requested_at DESC;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "audit_pending",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("time", UTCDateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_pending")),
        sa.UniqueConstraint("id", name=op.f("uq_audit_pending_id")),
    )
    with op.batch_alter_table("consent_transfer") as batch:
        batch.add_column(sa.Column("audit_event_id", sa.Uuid(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(GATE_ROWS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS consent_gate_rows(uuid, uuid, text, integer, integer)")
    with op.batch_alter_table("consent_transfer") as batch:
        batch.drop_column("audit_event_id")
    op.drop_table("audit_pending")
