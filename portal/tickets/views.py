"""The ticket page and its JSON."""

from flask import Blueprint, abort, current_app, jsonify, render_template, send_file
from flask_login import current_user, login_required
from markupsafe import Markup

from portal.calendar.services import sla_policy
from portal.clock import aware
from portal.extensions import db
from portal.kb.markup import render
from portal.tickets.access import can_view, ticket_for_viewer
from portal.tickets.attachments import storage_dir
from portal.tickets.categories import Category
from portal.tickets.messages import (
    CHANNEL_LABELS,
    CRITICALITY_LABELS,
    STAFF_STATUS_LABELS,
    STATUS_LABELS,
    level_label,
    tier_label,
)
from portal.tickets.models import Attachment
from portal.tickets.services import sla_view

bp = Blueprint("tickets", __name__)


def categories() -> dict[str, Category]:
    return current_app.extensions["ticket_categories"]


@bp.app_context_processor
def labels() -> dict:
    return {
        "status_label": lambda v: str(STATUS_LABELS.get(v, v)),
        "staff_status_label": lambda v: str(STAFF_STATUS_LABELS.get(v, v)),
        "criticality_label": lambda v: str(CRITICALITY_LABELS.get(v, v)),
        "level_label": level_label,
        "tier_label": tier_label,
        "channel_label": lambda v: str(CHANNEL_LABELS.get(v, v)),
    }


@bp.app_template_filter("markdown")
def markdown_filter(text: str) -> Markup:
    """A message's Markdown as sanitised HTML."""
    return Markup(render(text or "").html)


@bp.get("/requests/<number>")
@login_required
def show(number):
    ticket = ticket_for_viewer(number)
    return render_template(
        "tickets/show.html",
        ticket=ticket,
        category=categories().get(ticket.category),
        sla=sla_view(ticket),
        tz=sla_policy().calendar.tz,
    )


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id):
    """A file of a ticket, only to those who may see the ticket (and its message)."""
    item = db.session.get(Attachment, attachment_id)
    if item is None or not can_view(current_user, item.message.ticket):
        abort(404)
    if item.message.internal and not current_user.is_staff:
        abort(404)
    response = send_file(
        storage_dir() / item.stored_name,
        mimetype=item.content_type,
        as_attachment=True,
        download_name=item.filename,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.get("/api/tickets/<number>")
@login_required
def api_show(number):
    ticket = ticket_for_viewer(number)
    return jsonify(ticket_json(ticket))


def ticket_json(ticket) -> dict:
    """The ticket as the API returns it; dates in ISO 8601."""

    def iso(value):
        return aware(value).isoformat() if value else None

    return {
        "number": ticket.number,
        "title": ticket.title,
        "category": ticket.category,
        "details": ticket.details,
        "criticality": ticket.criticality,
        "service_level": ticket.service_level,
        "tier": ticket.tier,
        "channel": ticket.channel,
        "status": ticket.status,
        "author": {"name": ticket.author.name, "email": ticket.author.email},
        "assignee": ticket.assignee.name if ticket.assignee else None,
        "created_at": iso(ticket.created_at),
        "awaiting_since": iso(ticket.awaiting_since),
        "response_due": iso(ticket.response_due),
        "first_response_at": iso(ticket.first_response_at),
    }
