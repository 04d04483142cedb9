"""opt-outs per person, with their region and undoing

An opt-out recorded before this revision knew no person: it stays in force for the whole role
(`applies_to` 'role', as before), except where the company's contacts were erased after it was
recorded (then it applies to no one, as an erasure does now). Its region is that of the delivery
whose link was used, where the log still has it. The unique constraint on the reference gives way to
one on the reference and whom the opt-out applies to, so withdrawn opt-outs stay as history.

Revision ID: 25a534c84dd8
Revises: 3dbe8670d26e
Create Date: 2026-12-02 04:46:40.372504
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import shared.db


revision: str = '25a534c84dd8'
down_revision: str | Sequence[str] | None = '3dbe8670d26e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFERENCE = ['recipient_service', 'recipient_kind', 'recipient_ref_id']
# The first revision made the reference's unique constraint without a name; SQLite reflects it
# nameless, and batch mode names it by this convention so that it can be dropped.
NAMING = {'uq': 'uq_%(table_name)s_%(column_0_N_name)s'}
REFERENCE_UNIQUE = 'uq_opt_outs_recipient_service_recipient_kind_recipient_ref_id'

ERASED_AFTER = """
    FROM contact_erasures
    WHERE contact_erasures.company_id = opt_outs.company_id
      AND contact_erasures.service = opt_outs.recipient_service
      AND contact_erasures.erased_at >= opt_outs.opted_out_at
"""


def _reference_unique_name() -> str:
    for unique in sa.inspect(op.get_bind()).get_unique_constraints('opt_outs'):
        if unique['column_names'] == REFERENCE:
            return unique['name'] or REFERENCE_UNIQUE
    return REFERENCE_UNIQUE


def upgrade() -> None:
    with op.batch_alter_table('opt_outs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('applies_to', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_at', shared.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('withdrawal_source', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('withdrawal_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('withdrawal_notification_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('erased_at', shared.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_opt_outs_region'), ['region'], unique=False)

    op.execute("UPDATE opt_outs SET scope = 'role', applies_to = 'role'")
    op.execute("""
        UPDATE opt_outs SET region = (
            SELECT deliveries.region FROM deliveries WHERE deliveries.delivery_key = opt_outs.notification_id
        )
    """)
    op.execute(f"""
        UPDATE opt_outs SET applies_to = NULL, erased_at = (SELECT MAX(contact_erasures.erased_at) {ERASED_AFTER})
        WHERE EXISTS (SELECT 1 {ERASED_AFTER})
    """)

    reference_unique = _reference_unique_name()
    with op.batch_alter_table('opt_outs', schema=None, naming_convention=NAMING) as batch_op:
        batch_op.alter_column('scope', existing_type=sqlmodel.sql.sqltypes.AutoString(), nullable=False)
        batch_op.drop_constraint(reference_unique, type_='unique')
        batch_op.create_unique_constraint('uq_opt_outs_in_force', [*REFERENCE, 'applies_to'])


def downgrade() -> None:
    # Before this revision a row meant an opt-out in force for the reference: withdrawn and erased
    # ones go, and of several people's at one reference the first stays.
    op.execute("DELETE FROM opt_outs WHERE applies_to IS NULL")
    op.execute("""
        DELETE FROM opt_outs WHERE id > (
            SELECT MIN(earliest.id) FROM opt_outs AS earliest
            WHERE earliest.recipient_service = opt_outs.recipient_service
              AND earliest.recipient_kind = opt_outs.recipient_kind
              AND earliest.recipient_ref_id = opt_outs.recipient_ref_id
        )
    """)
    with op.batch_alter_table('opt_outs', schema=None) as batch_op:
        batch_op.drop_constraint('uq_opt_outs_in_force', type_='unique')
        batch_op.drop_index(batch_op.f('ix_opt_outs_region'))
        batch_op.drop_column('erased_at')
        batch_op.drop_column('withdrawal_notification_id')
        batch_op.drop_column('withdrawal_reason')
        batch_op.drop_column('withdrawal_source')
        batch_op.drop_column('withdrawn_by')
        batch_op.drop_column('withdrawn_at')
        batch_op.drop_column('applies_to')
        batch_op.drop_column('scope')
        batch_op.drop_column('region')
        batch_op.create_unique_constraint(REFERENCE_UNIQUE, REFERENCE)
