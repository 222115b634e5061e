"""enrolment_photo: the encrypted reference photo kept with a face template

Revision ID: 0017
Revises: 0016

The proctor's console shows each taker's enrolment photo next to the latest checked frame. The
template holds only encodings, so enrolment now also keeps one reference portrait (a JPEG crop
of the first accepted photo around the face), encrypted under the KEK like the template, in the
same row: it is made under the same biometric consent and destroyed with it. Templates enrolled
before have none (``NULL``): the console says so.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("biometric_template") as batch:
        batch.add_column(sa.Column("photo_enc", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("biometric_template") as batch:
        batch.drop_column("photo_enc")
