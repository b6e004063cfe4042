"""Attachment bytes in the database, in chunks, for PORTAL_ATTACHMENT_STORE=database.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attachment_chunks",
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("n", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("stored_name", "n"),
    )


def downgrade() -> None:
    op.drop_table("attachment_chunks")
