"""consent tables

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from propusk.db import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLES = [
    "consent_category",
    "consent_purpose",
    "consent_organization",
    "consent_template",
    "consent",
    "consent_event",
    "consent_transfer",
    "consent_vault_item",
    "consent_ticket",
    "consent_access_request",
    "consent_destruction_task",
]


def upgrade() -> None:
    op.create_table(
        "consent_category",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("special", sa.Boolean(), nullable=False),
        sa.Column("biometric", sa.Boolean(), nullable=False),
        sa.Column("encrypt", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_consent_category")),
    )
    op.create_table(
        "consent_purpose",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("legal_basis", sa.String(length=200), nullable=False),
        sa.Column("dissemination", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_consent_purpose")),
    )
    op.create_table(
        "consent_organization",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("inn", sa.String(length=12), nullable=False),
        sa.Column("ogrn", sa.String(length=15), nullable=False),
        sa.Column("address", sa.String(length=1000), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("storage_country", sa.String(length=2), nullable=False),
        sa.Column("storage_location", sa.String(length=500), nullable=False),
        sa.Column("registry_number", sa.String(length=64), nullable=False),
        sa.Column("cross_border_notice_ref", sa.String(length=200), nullable=True),
        sa.Column("client_id", sa.String(length=200), nullable=True),
        sa.Column("feed_pos", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_organization")),
        sa.UniqueConstraint("client_id", name=op.f("uq_consent_organization_client_id")),
        sa.UniqueConstraint("ogrn", name=op.f("uq_consent_organization_ogrn")),
    )
    op.create_table(
        "consent_template",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("operator_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose_key", sa.String(length=120), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("processing_methods", sa.JSON(), nullable=False),
        sa.Column("processor", sa.String(length=500), nullable=True),
        sa.Column("conditions", sa.Text(), nullable=True),
        sa.Column("term_days", sa.Integer(), nullable=False),
        sa.Column("withdrawal_method", sa.Text(), nullable=False),
        sa.Column("form", sa.String(length=8), nullable=False),
        sa.Column("request_ttl_days", sa.Integer(), nullable=False),
        sa.Column("valid_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["consent_organization.id"],
            name=op.f("fk_consent_template_operator_id_consent_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["purpose_key"],
            ["consent_purpose.key"],
            name=op.f("fk_consent_template_purpose_key_consent_purpose"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_template")),
        sa.UniqueConstraint("operator_id", "key", "version", name="uq_consent_template_ver"),
    )
    op.create_table(
        "consent",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("operator_id", sa.Uuid(), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=True),
        sa.Column("template_id", sa.Uuid(), nullable=False),
        sa.Column("purpose_key", sa.String(length=120), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("form", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("age_rule", sa.String(length=10), nullable=False),
        sa.Column("signatures", sa.JSON(), nullable=False),
        sa.Column("requested_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("request_expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("given_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("valid_from", UTCDateTime(timezone=True), nullable=True),
        sa.Column("valid_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("representative_until", sa.Date(), nullable=True),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["consent_organization.id"],
            name=op.f("fk_consent_operator_id_consent_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["person.id"], name=op.f("fk_consent_subject_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["consent_organization.id"],
            name=op.f("fk_consent_supplier_id_consent_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["consent_template.id"],
            name=op.f("fk_consent_template_id_consent_template"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
    )
    op.create_index(op.f("ix_consent_subject_id"), "consent", ["subject_id"], unique=False)
    op.create_table(
        "consent_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("pos", sa.Integer(), nullable=False),
        sa.Column("consent_id", sa.Uuid(), nullable=False),
        sa.Column("operator_id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_role", sa.String(length=32), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_id"], ["consent.id"], name=op.f("fk_consent_event_consent_id_consent")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_event")),
        sa.UniqueConstraint("consent_id", "seq", name="uq_consent_event_seq"),
        sa.UniqueConstraint("operator_id", "pos", name="uq_consent_event_feed"),
    )
    op.create_table(
        "consent_transfer",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("operator_id", sa.Uuid(), nullable=True),
        sa.Column("supplier_id", sa.Uuid(), nullable=True),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("purpose_key", sa.String(length=120), nullable=False),
        sa.Column("requested", sa.JSON(), nullable=False),
        sa.Column("allowed", sa.JSON(), nullable=False),
        sa.Column("refused", sa.JSON(), nullable=False),
        sa.Column("consent_ids", sa.JSON(), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("legal_basis", sa.String(length=200), nullable=True),
        sa.Column("ticket_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_transfer")),
    )
    op.create_index(
        op.f("ix_consent_transfer_operator_id"), "consent_transfer", ["operator_id"], unique=False
    )
    op.create_table(
        "consent_vault_item",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("category_key", sa.String(length=120), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("value_json", sa.JSON(), nullable=True),
        sa.Column("value_enc", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_key"],
            ["consent_category.key"],
            name=op.f("fk_consent_vault_item_category_key_consent_category"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["person.id"], name=op.f("fk_consent_vault_item_subject_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["consent_organization.id"],
            name=op.f("fk_consent_vault_item_supplier_id_consent_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_vault_item")),
        sa.UniqueConstraint(
            "subject_id", "category_key", "supplier_id", name="uq_consent_vault_item"
        ),
    )
    op.create_index(
        op.f("ix_consent_vault_item_subject_id"), "consent_vault_item", ["subject_id"], unique=False
    )
    op.create_table(
        "consent_ticket",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("operator_id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("purpose_key", sa.String(length=120), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("consent_ids", sa.JSON(), nullable=False),
        sa.Column("issued_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("redeemed_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_ticket")),
    )
    op.create_table(
        "consent_access_request",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answered_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["person.id"], name=op.f("fk_consent_access_request_subject_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_access_request")),
    )
    op.create_index(
        op.f("ix_consent_access_request_subject_id"),
        "consent_access_request",
        ["subject_id"],
        unique=False,
    )
    op.create_table(
        "consent_destruction_task",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("consent_id", sa.Uuid(), nullable=False),
        sa.Column("operator_id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("confirmed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["consent_id"],
            ["consent.id"],
            name=op.f("fk_consent_destruction_task_consent_id_consent"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_destruction_task")),
    )
    op.create_index(
        op.f("ix_consent_destruction_task_consent_id"),
        "consent_destruction_task",
        ["consent_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_consent_destruction_task_operator_id"),
        "consent_destruction_task",
        ["operator_id"],
        unique=False,
    )
    op.create_index("ix_consent_gate", "consent", ["subject_id", "operator_id", "purpose_key"])
    op.create_index("ix_consent_transfer_subject", "consent_transfer", ["subject_id", "at"])
    _append_only("consent_event")


def _append_only(table: str) -> None:
    """The consent event log is append-only in the database too (UPDATE/DELETE refused)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION consent_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION consent_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS consent_append_only() CASCADE")
    for table in reversed(TABLES):
        op.drop_table(table)
