"""audit_outbox_body_check: the outbox accepts only a JSON object as an event body (PostgreSQL)

Revision ID: 0011
Revises: 0010

The sequencer splices ``audit_pending.body`` into the Merkle leaf as stored (it is the audit
encoder's canonical output; decoding and re-encoding it cost the busy path ~5 %). A row written
by anything else must not turn into a permanent leaf that is not JSON, or one whose text breaks
out of the ``body`` member (``{},"subject":"…"``): PostgreSQL parses each body on insert (in C)
and refuses anything but one JSON object. SQLite has no outbox path (events append at once).
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "ALTER TABLE audit_pending ADD CONSTRAINT ck_audit_pending_body_object "
        "CHECK (json_typeof(body::json) = 'object')"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE audit_pending DROP CONSTRAINT ck_audit_pending_body_object")
