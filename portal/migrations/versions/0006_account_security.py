"""Account security: signed-in sessions, lock-out per typed address, confirmed addresses,
addresses in one normal form with a look-alike skeleton.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from portal.accounts.addresses import normalise_email, skeleton

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

users = sa.table(
    "users",
    sa.column("id", sa.Integer()),
    sa.column("email", sa.String()),
    sa.column("email_skeleton", sa.String()),
    sa.column("email_confirmed_at", sa.DateTime(timezone=True)),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_agent", sa.String(length=100), nullable=False),
        sa.Column("ip_prefix", sa.String(length=50), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    op.create_index(op.f("ix_user_sessions_user_id"), "user_sessions", ["user_id"], unique=False)
    op.create_table(
        "sign_in_failures",
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address_hash"),
    )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email_skeleton", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("email_confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_users_email_skeleton"), ["email_skeleton"], unique=False)
        # Lock-out is counted per typed address now, known or not (sign_in_failures).
        batch.drop_column("failed_logins")
        batch.drop_column("locked_until")
    _normalise_addresses()


def _normalise_addresses() -> None:
    """Store every address in its normal form; every existing account counts as confirmed."""
    connection = op.get_bind()
    rows = connection.execute(sa.select(users.c.id, users.c.email).order_by(users.c.id)).all()
    taken = {email for _id, email in rows}
    for user_id, email in rows:
        normal = normalise_email(email)
        if normal != email and normal in taken:
            normal = email  # two accounts fold to one address: leave this one as it was
        taken.add(normal)
        connection.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(email=normal, email_skeleton=skeleton(normal))
        )
    connection.execute(users.update().values(email_confirmed_at=users.c.created_at))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch.drop_index(batch.f("ix_users_email_skeleton"))
        batch.drop_column("email_confirmed_at")
        batch.drop_column("email_skeleton")
    op.drop_table("sign_in_failures")
    op.drop_index(op.f("ix_user_sessions_user_id"), table_name="user_sessions")
    op.drop_table("user_sessions")
