"""consent_relations: who may touch whose data (suppliers named by consents, value limits)

Revision ID: 0013
Revises: 0012

* ``consent_gate_rows_many`` also returns each consent's ``supplier_id``: a consent that names a
  supplier binds the gate to it (another supplier's ticket is refused; a pull releases only that
  supplier's vault value). The result type changes, so the function is dropped and created
  again (``CREATE OR REPLACE`` cannot change the columns of ``RETURNS TABLE``); the downgrade
  restores 0010's.
* ``consent_transfer.suppliers``: the binding each transfer record relied on (category →
  supplier), so the record says what the answer said.
* ``consent_category.max_bytes``: the per-category limit of a vault value.
"""

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

DROP_GATE_ROWS_MANY = (
    "DROP FUNCTION IF EXISTS "
    "consent_gate_rows_many(uuid[], uuid[], text[], integer, integer[], timestamptz)"
)

GATE_ROWS_MANY = """
CREATE FUNCTION consent_gate_rows_many(
    p_subjects uuid[], p_operators uuid[], p_purposes text[], p_class integer,
    p_keys integer[], p_now timestamptz
) RETURNS TABLE (
    ord bigint, id uuid, state varchar, categories json, valid_from timestamptz,
    valid_until timestamptz, actions json, form varchar, representative_until date,
    supplier_id uuid, blocked json
) LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(p_class, k)
        FROM (SELECT DISTINCT unnest(p_keys) AS k ORDER BY 1) AS keys;
    RETURN QUERY
        SELECT t.ord, c.id, c.state, c.categories, c.valid_from, c.valid_until, c.actions,
               c.form, c.representative_until, c.supplier_id,
               (SELECT json_agg(b.categories) FROM consent_block b
                 WHERE b.subject_id = t.s AND b.lifted_at IS NULL AND b.started_at <= p_now
                   AND (b.operator_id IS NULL OR b.operator_id = t.o))
        FROM unnest(p_subjects, p_operators, p_purposes) WITH ORDINALITY AS t(s, o, p, ord)
        JOIN consent c ON c.subject_id = t.s AND c.operator_id = t.o AND c.purpose_key = t.p
        ORDER BY t.ord, c.requested_at DESC;
END
$$
"""


def _revision_0010():
    """Migration 0010's module (its function is what the downgrade restores)."""
    path = Path(__file__).with_name("0010_consent_gate_batch.py")
    spec = importlib.util.spec_from_file_location("propusk_migration_0010", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    with op.batch_alter_table("consent_category") as batch:
        batch.add_column(sa.Column("max_bytes", sa.Integer(), nullable=True))
    with op.batch_alter_table("consent_transfer") as batch:
        batch.add_column(sa.Column("suppliers", sa.JSON(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(DROP_GATE_ROWS_MANY)
        op.execute(GATE_ROWS_MANY)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(DROP_GATE_ROWS_MANY)
        op.execute(_revision_0010().GATE_ROWS_MANY)
    with op.batch_alter_table("consent_transfer") as batch:
        batch.drop_column("suppliers")
    with op.batch_alter_table("consent_category") as batch:
        batch.drop_column("max_bytes")
