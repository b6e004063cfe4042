"""Phrases learned from readers and the keyed hashes that count each session once.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learned_phrases",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("article_slug", sa.String(length=200), nullable=False),
        sa.Column("phrase", sa.String(length=200), nullable=False),
        sa.Column("lang", sa.String(length=5), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("article_slug", "phrase", name="uq_learned_phrases"),
    )
    op.create_index("ix_learned_phrases_article_slug", "learned_phrases", ["article_slug"])
    op.create_index("ix_learned_phrases_status", "learned_phrases", ["status"])
    op.create_index("ix_learned_phrases_changed_at", "learned_phrases", ["changed_at"])
    op.create_table(
        "learned_sightings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("digest", name="uq_learned_sightings_digest"),
    )
    op.create_index("ix_learned_sightings_seen_at", "learned_sightings", ["seen_at"])


def downgrade() -> None:
    op.drop_table("learned_sightings")
    op.drop_table("learned_phrases")
