"""one_organization: one registry of organisations, consent's fields in a 1:1 profile

Revision ID: 0015
Revises: 0014

Operators and suppliers were two rows kept in step by a shared id: ``organization`` (idp:
ОГРН, name, kind, ESIA oid) and ``consent_organization`` (the same plus ИНН, address, where the
data is stored, the RKN registry number, the OAuth client, the events feed counter). Now:

* ``organization`` is the registry and gains ``inn`` and ``address``;
* ``consent_organization`` becomes ``consent_organization_profile`` (same ids, so every consent,
  template and vault row keeps its reference) with only consent's fields, its id a foreign key
  to ``organization``;
* the OAuth client binding lives only in ``oidc_client.organization_id`` (+ ``role``).

Data: a consent organisation missing from the registry is added under its id; the registry row
of one that is there gets its ИНН and address; a client named only by the consent row is bound.
"""

import sqlalchemy as sa
from alembic import op

from propusk.db import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

REGISTRY_COLUMNS = ("kind", "name", "inn", "ogrn", "address", "client_id", "created_at")


def upgrade() -> None:
    with op.batch_alter_table("organization") as batch:
        batch.add_column(sa.Column("inn", sa.String(length=12), nullable=True))
        batch.add_column(sa.Column("address", sa.String(length=1000), nullable=True))
    _complete_registry()
    _bind_clients()
    op.rename_table("consent_organization", "consent_organization_profile")
    with op.batch_alter_table("consent_organization_profile") as batch:
        batch.drop_constraint("uq_consent_organization_client_id", type_="unique")
        batch.drop_constraint("uq_consent_organization_ogrn", type_="unique")
        for column in REGISTRY_COLUMNS:
            batch.drop_column(column)
        batch.create_foreign_key(
            op.f("fk_consent_organization_profile_id_organization"),
            "organization",
            ["id"],
            ["id"],
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE consent_organization_profile RENAME CONSTRAINT "
            "pk_consent_organization TO pk_consent_organization_profile"
        )


def _complete_registry() -> None:
    op.execute(
        """
        UPDATE organization SET
            inn = (SELECT c.inn FROM consent_organization c WHERE c.id = organization.id),
            address = (SELECT c.address FROM consent_organization c WHERE c.id = organization.id)
        WHERE id IN (SELECT id FROM consent_organization)
        """
    )
    op.execute(
        """
        INSERT INTO organization (id, esia_org_oid, ogrn, inn, name, address, kind, created_at)
        SELECT c.id, NULL, c.ogrn, c.inn, c.name, c.address, c.kind, c.created_at
        FROM consent_organization c
        WHERE c.id NOT IN (SELECT id FROM organization)
        """
    )


def _bind_clients() -> None:
    op.execute(
        """
        UPDATE oidc_client SET
            organization_id = (SELECT c.id FROM consent_organization c
                               WHERE c.client_id = oidc_client.client_id),
            role = (SELECT c.kind FROM consent_organization c
                    WHERE c.client_id = oidc_client.client_id)
        WHERE organization_id IS NULL
          AND client_id IN (SELECT client_id FROM consent_organization
                            WHERE client_id IS NOT NULL)
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE consent_organization_profile RENAME CONSTRAINT "
            "pk_consent_organization_profile TO pk_consent_organization"
        )
    with op.batch_alter_table("consent_organization_profile") as batch:
        batch.drop_constraint(
            op.f("fk_consent_organization_profile_id_organization"), type_="foreignkey"
        )
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("name", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("inn", sa.String(length=12), nullable=True))
        batch.add_column(sa.Column("ogrn", sa.String(length=15), nullable=True))
        batch.add_column(sa.Column("address", sa.String(length=1000), nullable=True))
        batch.add_column(sa.Column("client_id", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("created_at", UTCDateTime(timezone=True), nullable=True))
    op.execute(
        """
        UPDATE consent_organization_profile SET
            kind = (SELECT o.kind FROM organization o WHERE o.id = consent_organization_profile.id),
            name = (SELECT o.name FROM organization o WHERE o.id = consent_organization_profile.id),
            inn = (SELECT o.inn FROM organization o WHERE o.id = consent_organization_profile.id),
            ogrn = (SELECT o.ogrn FROM organization o WHERE o.id = consent_organization_profile.id),
            address = (SELECT o.address FROM organization o
                       WHERE o.id = consent_organization_profile.id),
            created_at = (SELECT o.created_at FROM organization o
                          WHERE o.id = consent_organization_profile.id),
            client_id = (SELECT MIN(k.client_id) FROM oidc_client k
                         WHERE k.organization_id = consent_organization_profile.id)
        """
    )
    with op.batch_alter_table("consent_organization_profile") as batch:
        for column in ("kind", "name", "inn", "ogrn", "address", "created_at"):
            batch.alter_column(column, nullable=False)
        batch.create_unique_constraint("uq_consent_organization_client_id", ["client_id"])
        batch.create_unique_constraint("uq_consent_organization_ogrn", ["ogrn"])
    op.rename_table("consent_organization_profile", "consent_organization")
    with op.batch_alter_table("organization") as batch:
        batch.drop_column("address")
        batch.drop_column("inn")
