"""Imported packages are kept in the database too, so worker machines need no shared data directory.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 03:55:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "package_archives",
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("problem_id", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["problem_id"],
            ["problems.id"],
            name=op.f("fk_package_archives_problem_id_problems"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("path", name=op.f("pk_package_archives")),
    )
    with op.batch_alter_table("package_archives", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_package_archives_problem_id"), ["problem_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("package_archives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_package_archives_problem_id"))
    op.drop_table("package_archives")
