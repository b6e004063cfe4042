"""Knowledge base: helpfulness votes and the events table.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("article_slug", sa.String(200)),
        sa.Column("query", sa.Text),
        sa.Column("lang", sa.String(5)),
        sa.Column("results", sa.Integer),
        sa.Column("data", sa.JSON),
    )
    op.create_index("ix_events_kind", "events", ["kind"])
    op.create_index("ix_events_created_at", "events", ["created_at"])
    op.create_index("ix_events_article_slug", "events", ["article_slug"])
    op.create_table(
        "article_votes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("article_slug", sa.String(200), nullable=False),
        sa.Column("visitor", sa.String(64), nullable=False),
        sa.Column("helpful", sa.Boolean, nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("article_slug", "visitor", name="uq_article_votes_visitor"),
    )
    op.create_index("ix_article_votes_article_slug", "article_votes", ["article_slug"])


def downgrade() -> None:
    op.drop_table("article_votes")
    op.drop_table("events")
