"""consent_obligations: 152-FZ checks 9–15 (obligations, clocks, blocks, subject notices)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from propusk.db import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_obligation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=True),
        sa.Column("operator_id", sa.Uuid(), nullable=True),
        sa.Column("consent_id", sa.Uuid(), nullable=True),
        sa.Column("access_request_id", sa.Uuid(), nullable=True),
        sa.Column("destruction_task_id", sa.Uuid(), nullable=True),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("filed_by", sa.String(length=200), nullable=False),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("closed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["person.id"], name=op.f("fk_consent_obligation_subject_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_obligation")),
    )
    op.create_index(
        op.f("ix_consent_obligation_kind"), "consent_obligation", ["kind"], unique=False
    )
    op.create_index(
        op.f("ix_consent_obligation_operator_id"),
        "consent_obligation",
        ["operator_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_consent_obligation_subject_id"), "consent_obligation", ["subject_id"], unique=False
    )
    op.create_table(
        "consent_block",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("operator_id", sa.Uuid(), nullable=True),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("obligation_id", sa.Uuid(), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["obligation_id"],
            ["consent_obligation.id"],
            name=op.f("fk_consent_block_obligation_id_consent_obligation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_block")),
    )
    op.create_index(
        "ix_consent_block_subject", "consent_block", ["subject_id", "lifted_at"], unique=False
    )
    op.create_table(
        "consent_obligation_clock",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("obligation_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=24), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("due_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("extended", sa.Boolean(), nullable=False),
        sa.Column("met_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["obligation_id"],
            ["consent_obligation.id"],
            name=op.f("fk_consent_obligation_clock_obligation_id_consent_obligation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_obligation_clock")),
        sa.UniqueConstraint("obligation_id", "name", name="uq_consent_obl_clock"),
    )
    op.create_index(
        "ix_consent_obl_clock_open", "consent_obligation_clock", ["met_at", "due_at"], unique=False
    )
    op.create_table(
        "consent_obligation_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("obligation_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["obligation_id"],
            ["consent_obligation.id"],
            name=op.f("fk_consent_obligation_event_obligation_id_consent_obligation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_obligation_event")),
        sa.UniqueConstraint("obligation_id", "seq", name="uq_consent_obl_event_seq"),
    )
    op.create_table(
        "consent_subject_notice",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("obligation_id", sa.Uuid(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["obligation_id"],
            ["consent_obligation.id"],
            name=op.f("fk_consent_subject_notice_obligation_id_consent_obligation"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["person.id"], name=op.f("fk_consent_subject_notice_subject_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_subject_notice")),
    )
    op.create_index(
        op.f("ix_consent_subject_notice_subject_id"),
        "consent_subject_notice",
        ["subject_id"],
        unique=False,
    )
    # ### end Alembic commands ###
    with op.batch_alter_table("consent_access_request") as batch:
        batch.add_column(sa.Column("extended_due_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("refusal_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consent_access_request") as batch:
        batch.drop_column("refusal_reason")
        batch.drop_column("extended_due_date")
    op.drop_table("consent_subject_notice")
    op.drop_table("consent_obligation_event")
    op.drop_table("consent_obligation_clock")
    op.drop_table("consent_block")
    op.drop_table("consent_obligation")
