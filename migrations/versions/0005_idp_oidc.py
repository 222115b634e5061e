"""idp_oidc tables

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

from propusk.db import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('oidc_client',
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=True),
    sa.Column('auth_method', sa.String(length=32), nullable=False),
    sa.Column('id_token_alg', sa.String(length=8), nullable=False),
    sa.Column('grant_types', sa.JSON(), nullable=False),
    sa.Column('redirect_uris', sa.JSON(), nullable=False),
    sa.Column('post_logout_redirect_uris', sa.JSON(), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('jwks', sa.JSON(), nullable=True),
    sa.Column('jwks_uri', sa.String(length=500), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=True),
    sa.Column('organization_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('client_id', name=op.f('pk_oidc_client'))
    )
    op.create_table('oidc_login_session',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('auth_time', UTCDateTime(timezone=True), nullable=False),
    sa.Column('amr', sa.JSON(), nullable=False),
    sa.Column('upstream', sa.String(length=16), nullable=False),
    sa.Column('expires_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_oidc_login_session'))
    )
    op.create_index(op.f('ix_oidc_login_session_person_id'), 'oidc_login_session', ['person_id'], unique=False)
    op.create_table('oidc_login_txn',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_oidc_login_txn'))
    )
    op.create_table('oidc_revoked_jti',
    sa.Column('jti_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('jti_hash', name=op.f('pk_oidc_revoked_jti'))
    )
    op.create_table('oidc_signing_key',
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('alg', sa.String(length=8), nullable=False),
    sa.Column('private_enc', sa.LargeBinary(), nullable=False),
    sa.Column('public_jwk', sa.JSON(), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('retired_at', UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('kid', name=op.f('pk_oidc_signing_key'))
    )
    op.create_table('oidc_used_assertion',
    sa.Column('jti_hash', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('expires_at', UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('jti_hash', name=op.f('pk_oidc_used_assertion'))
    )
    op.create_table('oidc_auth_code',
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('redirect_uri', sa.String(length=1000), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('nonce', sa.String(length=500), nullable=True),
    sa.Column('code_challenge', sa.String(length=128), nullable=False),
    sa.Column('code_challenge_method', sa.String(length=8), nullable=False),
    sa.Column('auth_time', UTCDateTime(timezone=True), nullable=False),
    sa.Column('amr', sa.JSON(), nullable=False),
    sa.Column('session_hash', sa.String(length=64), nullable=True),
    sa.Column('expires_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('grant_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['oidc_client.client_id'], name=op.f('fk_oidc_auth_code_client_id_oidc_client')),
    sa.PrimaryKeyConstraint('code_hash', name=op.f('pk_oidc_auth_code'))
    )
    op.create_index(op.f('ix_oidc_auth_code_client_id'), 'oidc_auth_code', ['client_id'], unique=False)
    op.create_table('oidc_grant',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('auth_time', UTCDateTime(timezone=True), nullable=False),
    sa.Column('amr', sa.JSON(), nullable=False),
    sa.Column('session_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_reason', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['oidc_client.client_id'], name=op.f('fk_oidc_grant_client_id_oidc_client')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_grant'))
    )
    op.create_index(op.f('ix_oidc_grant_client_id'), 'oidc_grant', ['client_id'], unique=False)
    op.create_index(op.f('ix_oidc_grant_person_id'), 'oidc_grant', ['person_id'], unique=False)
    op.create_index(op.f('ix_oidc_grant_session_hash'), 'oidc_grant', ['session_hash'], unique=False)
    op.create_table('oidc_token',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('grant_id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['grant_id'], ['oidc_grant.id'], name=op.f('fk_oidc_token_grant_id_oidc_grant')),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_oidc_token'))
    )
    op.create_index(op.f('ix_oidc_token_grant_id'), 'oidc_token', ['grant_id'], unique=False)


def downgrade() -> None:
    for table in (
        "oidc_token", "oidc_grant", "oidc_auth_code", "oidc_used_assertion", "oidc_signing_key",
        "oidc_revoked_jti", "oidc_login_txn", "oidc_login_session", "oidc_client",
    ):
        op.drop_table(table)
