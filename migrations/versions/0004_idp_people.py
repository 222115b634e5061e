"""idp_people tables

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from propusk.db import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("esia_oid", sa.String(length=32), nullable=False),
        sa.Column("last_name", sa.String(length=200), nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=False),
        sa.Column("middle_name", sa.String(length=200), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("gender", sa.String(length=1), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("snils_enc", sa.LargeBinary(), nullable=True),
        sa.Column("snils_hash", sa.String(length=64), nullable=True),
        sa.Column("trusted", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("esia_refreshed_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        sa.UniqueConstraint("esia_oid", name=op.f("uq_person_esia_oid")),
    )
    op.create_index(op.f("ix_person_snils_hash"), "person", ["snils_hash"], unique=False)
    op.create_table(
        "school",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("esia_org_oid", sa.String(length=32), nullable=True),
        sa.Column("ogrn", sa.String(length=15), nullable=False),
        sa.Column("inn", sa.String(length=12), nullable=True),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("short_name", sa.String(length=200), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school")),
        sa.UniqueConstraint("esia_org_oid", name=op.f("uq_school_esia_org_oid")),
        sa.UniqueConstraint("ogrn", name=op.f("uq_school_ogrn")),
    )
    op.create_table(
        "guardianship",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("guardian_id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("valid_from", UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_to", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["child_id"], ["person.id"], name=op.f("fk_guardianship_child_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["guardian_id"], ["person.id"], name=op.f("fk_guardianship_guardian_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guardianship")),
        sa.UniqueConstraint("guardian_id", "child_id", name="uq_guardianship_pair"),
    )
    op.create_index(op.f("ix_guardianship_child_id"), "guardianship", ["child_id"], unique=False)
    op.create_index(
        op.f("ix_guardianship_guardian_id"), "guardianship", ["guardian_id"], unique=False
    )
    op.create_table(
        "organization",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("esia_org_oid", sa.String(length=32), nullable=True),
        sa.Column("ogrn", sa.String(length=15), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organization")),
        sa.UniqueConstraint("esia_org_oid", name=op.f("uq_organization_esia_org_oid")),
        sa.UniqueConstraint("ogrn", name=op.f("uq_organization_ogrn")),
    )
    op.create_table(
        "status",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=True),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("class_name", sa.String(length=16), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("valid_from", UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_to", UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=True),
        sa.Column("end_reason", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_status_organization_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_status_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_status_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status")),
    )
    op.create_index("ix_status_person_active", "status", ["person_id", "revoked_at"], unique=False)
    op.create_index(op.f("ix_status_person_id"), "status", ["person_id"], unique=False)
    op.create_index(op.f("ix_status_school_id"), "status", ["school_id"], unique=False)
    op.create_index(op.f("ix_status_organization_id"), "status", ["organization_id"], unique=False)
    op.create_table(
        "roster_entry",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("last_name", sa.String(length=200), nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=False),
        sa.Column("middle_name", sa.String(length=200), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("snils_enc", sa.LargeBinary(), nullable=True),
        sa.Column("snils_hash", sa.String(length=64), nullable=True),
        sa.Column("name_key", sa.String(length=64), nullable=False),
        sa.Column("class_name", sa.String(length=16), nullable=True),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("confirmed_by", sa.String(length=80), nullable=False),
        sa.Column("confirmed_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_roster_entry_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_roster_entry_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_entry")),
    )
    op.create_index(op.f("ix_roster_entry_name_key"), "roster_entry", ["name_key"], unique=False)
    op.create_index(op.f("ix_roster_entry_person_id"), "roster_entry", ["person_id"], unique=False)
    op.create_index(op.f("ix_roster_entry_school_id"), "roster_entry", ["school_id"], unique=False)
    op.create_index(
        op.f("ix_roster_entry_snils_hash"), "roster_entry", ["snils_hash"], unique=False
    )


def downgrade() -> None:
    for table in ("roster_entry", "status", "organization", "guardianship", "school", "person"):
        op.drop_table(table)
