"""policies tables

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from propusk.db import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_changes",
        sa.Column("version", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("changed_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_policy_changes")),
    )
    op.create_table(
        "policy_role_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("domain", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_role_links")),
        sa.UniqueConstraint(
            "subject", "role", "domain", "source", name="uq_policy_role_links_row"
        ),
    )
    op.create_index(
        op.f("ix_policy_role_links_subject"), "policy_role_links", ["subject"], unique=False
    )
    op.create_table(
        "policy_rules",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("domain", sa.String(length=100), nullable=False),
        sa.Column("obj", sa.String(length=64), nullable=False),
        sa.Column("act", sa.String(length=32), nullable=False),
        sa.Column("cond", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_rules")),
        sa.UniqueConstraint("role", "domain", "obj", "act", "cond", name="uq_policy_rules_row"),
    )


def downgrade() -> None:
    op.drop_table("policy_rules")
    op.drop_index(op.f("ix_policy_role_links_subject"), table_name="policy_role_links")
    op.drop_table("policy_role_links")
    op.drop_table("policy_changes")
