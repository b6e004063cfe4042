"""Who may see what: checked on every ticket, message and attachment."""

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from portal.extensions import db
from portal.tickets.models import Ticket


def can_view(user, ticket: Ticket) -> bool:
    """Authors, their organisation's admins and support staff see a ticket."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff or ticket.author_id == user.id:
        return True
    if user.role == "editor" and ticket.status in ("resolved", "closed"):
        return True  # editors turn answered requests into articles
    return bool(
        user.is_org_admin
        and user.organisation_id
        and user.organisation_id == ticket.organisation_id
    )


def ticket_for_viewer(number: str) -> Ticket:
    """The ticket if the current user may see it; 404 otherwise (no hint it exists)."""
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
    if ticket is None or not can_view(current_user, ticket):
        abort(404)
    return ticket


def require_staff() -> None:
    if not current_user.is_authenticated or not current_user.is_staff:
        abort(403 if current_user.is_authenticated else 401)


def require_admin() -> None:
    if not current_user.is_authenticated or not current_user.is_admin:
        abort(403 if current_user.is_authenticated else 401)
