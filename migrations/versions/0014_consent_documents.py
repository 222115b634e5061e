"""consent_documents: the document each signature signed (hash of the text shown, the PDF)

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

from propusk.db import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_document",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("consent_id", sa.Uuid(), nullable=False),
        sa.Column("signer_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf_enc", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_id"], ["consent.id"], name=op.f("fk_consent_document_consent_id_consent")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_document")),
    )
    op.create_index(
        op.f("ix_consent_document_consent_id"), "consent_document", ["consent_id"], unique=False
    )
    op.create_index(
        op.f("ix_consent_document_pdf_sha256"), "consent_document", ["pdf_sha256"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_consent_document_pdf_sha256"), table_name="consent_document")
    op.drop_index(op.f("ix_consent_document_consent_id"), table_name="consent_document")
    op.drop_table("consent_document")
