"""The published articles, the sequence numbering their changes, and each revision's number.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "article_sequence",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
    )
    op.bulk_insert(sa.table("article_sequence", sa.column("id"), sa.column("value")),
                   [{"id": 1, "value": 0}])  # fmt: skip
    op.create_table(
        "articles",
        sa.Column("path", sa.String(length=300), primary_key=True),
        sa.Column("slug", sa.String(length=200), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_articles_slug", "articles", ["slug"])
    op.create_index("ix_articles_seq", "articles", ["seq"])
    with op.batch_alter_table("article_revisions") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.create_index("ix_article_revisions_seq", ["seq"])


def downgrade() -> None:
    with op.batch_alter_table("article_revisions") as batch:
        batch.drop_index("ix_article_revisions_seq")
        batch.drop_column("seq")
    op.drop_table("articles")
    op.drop_table("article_sequence")
