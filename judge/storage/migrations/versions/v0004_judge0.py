"""Submissions get a token (the Judge0-compatible API's UUID) and options (an ad hoc run's extra settings).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 01:13:28.225120

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("options", sa.Text(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_submissions_token"), ["token"])


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_submissions_token"), type_="unique")
        batch_op.drop_column("options")
        batch_op.drop_column("token")
