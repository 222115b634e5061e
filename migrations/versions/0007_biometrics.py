"""biometrics tables

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from propusk.db import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = [
    "biometric_template",
    "exam_session",
    "exam_taker",
    "exam_check",
    "exam_flag",
    "exam_evidence",
]


def upgrade() -> None:
    op.create_table('biometric_template',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('consent_id', sa.Uuid(), nullable=False),
    sa.Column('template_enc', sa.LargeBinary(), nullable=False),
    sa.Column('photos', sa.Integer(), nullable=False),
    sa.Column('engine', sa.String(length=40), nullable=False),
    sa.Column('enrolled_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_biometric_template_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_biometric_template')),
    sa.UniqueConstraint('person_id', name=op.f('uq_biometric_template_person_id'))
    )
    op.create_index(op.f('ix_biometric_template_consent_id'), 'biometric_template', ['consent_id'], unique=False)
    op.create_table('exam_session',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('school_id', sa.Uuid(), nullable=False),
    sa.Column('proctor_id', sa.Uuid(), nullable=False),
    sa.Column('course', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('opens_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('closes_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('keep_frames_days', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['proctor_id'], ['person.id'], name=op.f('fk_exam_session_proctor_id_person')),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_exam_session_school_id_school')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exam_session'))
    )
    op.create_index(op.f('ix_exam_session_proctor_id'), 'exam_session', ['proctor_id'], unique=False)
    op.create_index(op.f('ix_exam_session_school_id'), 'exam_session', ['school_id'], unique=False)
    op.create_table('exam_taker',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('path', sa.String(length=16), nullable=True),
    sa.Column('path_reason', sa.String(length=40), nullable=True),
    sa.Column('started_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('challenge_nonce_hash', sa.String(length=64), nullable=True),
    sa.Column('challenge_actions', sa.JSON(), nullable=True),
    sa.Column('challenge_deadline', UTCDateTime(timezone=True), nullable=True),
    sa.Column('liveness_attempts', sa.Integer(), nullable=False),
    sa.Column('liveness_passed_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('liveness_reason', sa.String(length=40), nullable=True),
    sa.Column('checks', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('decision_basis', sa.JSON(), nullable=True),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('decided_at', UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_exam_taker_person_id_person')),
    sa.ForeignKeyConstraint(['session_id'], ['exam_session.id'], name=op.f('fk_exam_taker_session_id_exam_session')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exam_taker')),
    sa.UniqueConstraint('session_id', 'person_id', name='uq_exam_taker_pair')
    )
    op.create_index(op.f('ix_exam_taker_person_id'), 'exam_taker', ['person_id'], unique=False)
    op.create_index(op.f('ix_exam_taker_session_id'), 'exam_taker', ['session_id'], unique=False)
    op.create_table('exam_check',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('taker_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('result', sa.String(length=16), nullable=False),
    sa.Column('faces', sa.Integer(), nullable=False),
    sa.Column('distance', sa.Float(), nullable=True),
    sa.Column('frame_sha256', sa.String(length=64), nullable=False),
    sa.Column('pixel_sha256', sa.String(length=64), nullable=False),
    sa.Column('at', UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['taker_id'], ['exam_taker.id'], name=op.f('fk_exam_check_taker_id_exam_taker')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exam_check')),
    sa.UniqueConstraint('taker_id', 'seq', name='uq_exam_check_seq')
    )
    op.create_index('ix_exam_check_taker_frame', 'exam_check', ['taker_id', 'frame_sha256'], unique=False)
    op.create_index(op.f('ix_exam_check_taker_id'), 'exam_check', ['taker_id'], unique=False)
    op.create_index('ix_exam_check_taker_pixels', 'exam_check', ['taker_id', 'pixel_sha256'], unique=False)
    op.create_table('exam_flag',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('taker_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('first_seq', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('frames', sa.Integer(), nullable=False),
    sa.Column('started_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_at', UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['taker_id'], ['exam_taker.id'], name=op.f('fk_exam_flag_taker_id_exam_taker')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exam_flag'))
    )
    op.create_index(op.f('ix_exam_flag_taker_id'), 'exam_flag', ['taker_id'], unique=False)
    op.create_table('exam_evidence',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('check_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('frame_enc', sa.LargeBinary(), nullable=False),
    sa.Column('expires_at', UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['check_id'], ['exam_check.id'], name=op.f('fk_exam_evidence_check_id_exam_check')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_exam_evidence_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exam_evidence')),
    sa.UniqueConstraint('check_id', name=op.f('uq_exam_evidence_check_id'))
    )
    op.create_index(op.f('ix_exam_evidence_expires_at'), 'exam_evidence', ['expires_at'], unique=False)
    op.create_index(op.f('ix_exam_evidence_person_id'), 'exam_evidence', ['person_id'], unique=False)
    # ### end Alembic commands ###


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
