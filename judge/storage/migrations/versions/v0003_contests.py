"""Contests get a freeze time and a kind (icpc or scoring) for their scoreboards.

Datetimes are plain DateTime(timezone=True), as in 0001.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 00:45:33.894595

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("contests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("freeze_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="icpc"))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("contests", schema=None) as batch_op:
        batch_op.drop_column("kind")
        batch_op.drop_column("freeze_at")
