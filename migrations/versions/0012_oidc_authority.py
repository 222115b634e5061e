"""oidc_authority: who may act for a person

Revision ID: 0012
Revises: 0011

Remembered consent-screen grants (person × client → scopes); first-party clients, the return
URIs of the signing page and the clients a resource server may introspect for; the assurance
level (``acr``) of logins, codes and grants, and whether the ESIA account was confirmed.
"""

import sqlalchemy as sa
from alembic import op

from propusk.db import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oidc_app_grant",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oidc_client.client_id"],
            name=op.f("fk_oidc_app_grant_client_id_oidc_client"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_app_grant")),
        sa.UniqueConstraint("person_id", "client_id", name=op.f("uq_oidc_app_grant_person_id")),
    )
    op.create_index(
        op.f("ix_oidc_app_grant_client_id"), "oidc_app_grant", ["client_id"], unique=False
    )
    op.create_index(
        op.f("ix_oidc_app_grant_person_id"), "oidc_app_grant", ["person_id"], unique=False
    )
    op.add_column("oidc_auth_code", sa.Column("acr", sa.String(length=64), nullable=True))
    op.add_column(
        "oidc_client",
        sa.Column("first_party", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "oidc_client", sa.Column("return_uris", sa.JSON(), nullable=False, server_default="[]")
    )
    op.add_column(
        "oidc_client",
        sa.Column("resource_server_for", sa.JSON(), nullable=False, server_default="[]"),
    )
    op.add_column("oidc_grant", sa.Column("acr", sa.String(length=64), nullable=True))
    op.add_column("oidc_login_session", sa.Column("acr", sa.String(length=64), nullable=True))
    op.add_column(
        "oidc_login_session",
        sa.Column("confirmed", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("oidc_login_session") as batch:
        batch.drop_column("confirmed")
        batch.drop_column("acr")
    with op.batch_alter_table("oidc_grant") as batch:
        batch.drop_column("acr")
    with op.batch_alter_table("oidc_client") as batch:
        batch.drop_column("resource_server_for")
        batch.drop_column("return_uris")
        batch.drop_column("first_party")
    with op.batch_alter_table("oidc_auth_code") as batch:
        batch.drop_column("acr")
    op.drop_index(op.f("ix_oidc_app_grant_person_id"), table_name="oidc_app_grant")
    op.drop_index(op.f("ix_oidc_app_grant_client_id"), table_name="oidc_app_grant")
    op.drop_table("oidc_app_grant")
