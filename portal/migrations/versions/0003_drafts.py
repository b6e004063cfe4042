"""Request drafts of the wizard, their files, and the draft of each funnel event.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=50), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("criticality", sa.String(length=10), nullable=False),
        sa.Column("coupon_code", sa.String(length=40), nullable=False),
        sa.Column("insist", sa.Boolean(), nullable=False),
        sa.Column("insist_note", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(length=5), nullable=False),
        sa.Column("deflected_by", sa.String(length=200), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    op.create_index(op.f("ix_drafts_state"), "drafts", ["state"], unique=False)
    op.create_index(op.f("ix_drafts_user_id"), "drafts", ["user_id"], unique=False)
    op.create_table(
        "draft_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["draft_id"],
            ["drafts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("stored_name"),
    )
    op.create_index(op.f("ix_draft_files_draft_id"), "draft_files", ["draft_id"], unique=False)
    op.add_column("events", sa.Column("draft_id", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_events_draft_id"), "events", ["draft_id"], unique=False)


def downgrade() -> None:

    op.drop_index(op.f("ix_events_draft_id"), table_name="events")
    op.drop_column("events", "draft_id")
    op.drop_index(op.f("ix_draft_files_draft_id"), table_name="draft_files")
    op.drop_table("draft_files")
    op.drop_index(op.f("ix_drafts_user_id"), table_name="drafts")
    op.drop_index(op.f("ix_drafts_state"), table_name="drafts")
    op.drop_table("drafts")
