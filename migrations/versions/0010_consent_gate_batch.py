"""consent_gate_batch: the gate's read for a batch of transfers in one round trip (PostgreSQL)

Revision ID: 0010
Revises: 0009

``consent_gate_rows_many`` is ``consent_gate_rows`` (0008) for many (subject, operator,
purpose) triples at once: it takes every subject's shared consent lock (in key order, so two
batches and the one-subject exclusive lockers cannot deadlock), then, in a fresh READ COMMITTED
snapshot taken after the locks were granted, returns the consent rows the gate reads, tagged
with the 1-based position of their triple, with the categories of the blocks in force.
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


GATE_ROWS_MANY = """
CREATE OR REPLACE FUNCTION consent_gate_rows_many(
    p_subjects uuid[], p_operators uuid[], p_purposes text[], p_class integer,
    p_keys integer[], p_now timestamptz
) RETURNS TABLE (
    ord bigint, id uuid, state varchar, categories json, valid_from timestamptz,
    valid_until timestamptz, actions json, form varchar, representative_until date,
    blocked json
) LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(p_class, k)
        FROM (SELECT DISTINCT unnest(p_keys) AS k ORDER BY 1) AS keys;
    RETURN QUERY
        SELECT t.ord, c.id, c.state, c.categories, c.valid_from, c.valid_until, c.actions,
               c.form, c.representative_until,
               (SELECT json_agg(b.categories) FROM consent_block b
                 WHERE b.subject_id = t.s AND b.lifted_at IS NULL AND b.started_at <= p_now
                   AND (b.operator_id IS NULL OR b.operator_id = t.o))
        FROM unnest(p_subjects, p_operators, p_purposes) WITH ORDINALITY AS t(s, o, p, ord)
        JOIN consent c ON c.subject_id = t.s AND c.operator_id = t.o AND c.purpose_key = t.p
        ORDER BY t.ord, c.requested_at DESC;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(GATE_ROWS_MANY)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION IF EXISTS "
            "consent_gate_rows_many(uuid[], uuid[], text[], integer, integer[], timestamptz)"
        )
