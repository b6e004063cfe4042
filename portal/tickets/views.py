"""The customer's side: "My requests", the ticket page with its live thread, replies,
closing, rating and continuing the discussion; files and the ticket JSON."""

import datetime as dt

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import func, or_, select

from portal.calendar.services import sla_policy
from portal.extensions import db
from portal.forms import ActionForm, choices
from portal.kb.markup import render
from portal.params import optional_int
from portal.sla import SERVICE_LEVELS
from portal.tickets import conversation
from portal.tickets.access import can_view, ticket_for_viewer
from portal.tickets.attachments import UploadError, send_stored, store
from portal.tickets.categories import configured_categories as categories
from portal.tickets.forms import RateForm, ReplyForm, RequestsFilterForm
from portal.tickets.messages import (
    CHANNEL_LABELS,
    CRITICALITY_LABELS,
    EVENT_LABELS,
    LEVEL_LABELS,
    STAFF_STATUS_LABELS,
    STATUS_LABELS,
    level_label,
    tier_label,
    upload_error_message,
)
from portal.tickets.models import CRITICALITIES, STATUSES, Attachment, Ticket
from portal.tickets.panel import staff_panel
from portal.tickets.payloads import ticket_data
from portal.tickets.services import TicketError, sla_view

bp = Blueprint("tickets", __name__)
PAGE_SIZE = 20


@bp.app_context_processor
def labels() -> dict:
    return {
        "status_label": lambda v: str(STATUS_LABELS.get(v, v)),
        "staff_status_label": lambda v: str(STAFF_STATUS_LABELS.get(v, v)),
        "criticality_label": lambda v: str(CRITICALITY_LABELS.get(v, v)),
        "level_label": level_label,
        "tier_label": tier_label,
        "channel_label": lambda v: str(CHANNEL_LABELS.get(v, v)),
        "event_label": lambda v: str(EVENT_LABELS.get(v, v)),
        "indicator": conversation.indicator,
    }


@bp.app_template_filter("markdown")
def markdown_filter(text: str) -> Markup:
    """A message's Markdown as sanitised HTML."""
    return Markup(render(text or "").html)


def _filter_form() -> RequestsFilterForm:
    lang = str(get_locale())
    form = RequestsFilterForm(request.args)
    any_ = [("", _("Any"))]
    form.status.choices = choices(any_ + [(s, STATUS_LABELS[s]) for s in STATUSES])
    form.category.choices = choices(any_ + [(k, c.title_in(lang)) for k, c in categories().items()])
    form.criticality.choices = choices(any_ + [(c, CRITICALITY_LABELS[c]) for c in CRITICALITIES])
    form.level.choices = choices(any_ + [(lv, LEVEL_LABELS[lv]) for lv in SERVICE_LEVELS])
    form.mine.choices = choices([("mine", _("Mine")), ("org", _("My organisation's"))])
    return form


@bp.get("/requests")
@login_required
def index():
    form = _filter_form()
    valid = form.validate()
    query = select(Ticket).where(Ticket.merged_into_id.is_(None))
    organisation = current_user.is_org_admin and current_user.organisation_id
    if organisation and form.mine.data == "org" and not form.mine.errors:
        query = query.where(Ticket.organisation_id == current_user.organisation_id)
    else:
        query = query.where(Ticket.author_id == current_user.id)
    for field, column in (
        (form.status, Ticket.status),
        (form.category, Ticket.category),
        (form.criticality, Ticket.criticality),
        (form.level, Ticket.service_level),
    ):
        if field.data and not field.errors:
            query = query.where(column == field.data)
    tz = sla_policy().calendar.tz
    if form.date_from.data and not form.date_from.errors:
        start = dt.datetime.combine(form.date_from.data, dt.time(), tz)
        query = query.where(Ticket.created_at >= start)
    if form.date_to.data and not form.date_to.errors:
        end = dt.datetime.combine(form.date_to.data + dt.timedelta(days=1), dt.time(), tz)
        query = query.where(Ticket.created_at < end)
    text = (form.q.data or "").strip() if not form.q.errors else ""
    if text:
        like = f"%{text.lower()}%"
        query = query.where(or_(func.lower(Ticket.title).like(like), Ticket.number.like(like)))
    order = {
        "created": [Ticket.created_at.desc()],
        "number": [Ticket.number.desc()],
        "due": [Ticket.response_due.is_(None), Ticket.response_due],
    }.get(form.sort.data if not form.sort.errors else "", [Ticket.updated_at.desc()])
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(form.page.data or 1, pages) if valid or not form.page.errors else 1
    tickets = db.session.scalars(
        query.order_by(*order, Ticket.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "tickets/index.html",
        form=form,
        tickets=tickets,
        total=total,
        page=page,
        pages=pages,
        args=args,
        org_admin=bool(organisation),
    )


@bp.get("/requests/<number>")
@login_required
def show(number):
    ticket = ticket_for_viewer(number)
    if ticket.merged_into is not None:
        flash(
            _("This request was merged into %(number)s.", number=ticket.merged_into.number), "info"
        )
    return _render_ticket(ticket, ReplyForm())


@bp.post("/requests/<number>/reply")
@login_required
def reply(number):
    ticket = ticket_for_viewer(number)
    form = ReplyForm()
    if not form.validate_on_submit():
        flash(_("The message was not sent: the form expired. Please try again."), "error")
        return redirect(url_for("tickets.show", number=number))
    uploads, problems = [], []
    files = [f for f in (form.files.data or []) if getattr(f, "filename", "")]
    limit = current_app.config["PORTAL_ATTACHMENTS_PER_MESSAGE"]
    for index, upload in enumerate(files):
        try:
            if index >= limit:
                raise UploadError("too_many", upload.filename)
            uploads.append(store(upload.filename, upload.read()))
        except UploadError as error:
            problems.append(upload_error_message(error.code, error.filename))
    if problems:
        for stored in uploads:
            stored.discard()
        return _show_with_errors(ticket, form, problems)
    internal = bool(form.internal.data) and current_user.is_staff
    try:
        conversation.post_reply(ticket, current_user, form.body.data or "", internal, uploads)
    except TicketError as error:
        for stored in uploads:
            stored.discard()
        messages = {
            "body": _("Write a message or attach a file."),
            "done": _("The request is closed. Continue the discussion to reopen it."),
        }
        return _show_with_errors(ticket, form, [messages.get(error.code, messages["body"])])
    return redirect(url_for("tickets.show", number=number) + "#thread-end")


def _show_with_errors(ticket, form, errors):
    form.body.errors = errors
    return _render_ticket(ticket, form), 400


def _render_ticket(ticket, reply_form):
    """The ticket page: thread, reply box, rating, reopening, and the specialist's tools."""
    return render_template(
        "tickets/show.html",
        ticket=ticket,
        category=categories().get(ticket.category),
        sla=sla_view(ticket),
        items=conversation.thread(ticket, current_user),
        reply_form=reply_form,
        rate_form=RateForm(
            score=str(ticket.rating.score) if ticket.rating else None,
            comment=ticket.rating.comment if ticket.rating else None,
        ),
        action_form=ActionForm(),
        can_rate=conversation.can_rate(ticket, current_user),
        can_reopen=conversation.can_reopen(ticket),
        reopen_deadline=conversation.reopen_deadline(ticket),
        staff=staff_panel(ticket) if current_user.is_staff else None,
        last_id=max((m.id for m in ticket.messages), default=0),
    )


@bp.post("/requests/<number>/close")
@login_required
def close(number):
    ticket = ticket_for_viewer(number)
    if ActionForm().validate_on_submit() and ticket.status != "closed":
        conversation.close(ticket, current_user)
        flash(_("The request is closed. Thank you!"), "success")
    return redirect(url_for("tickets.show", number=number))


@bp.post("/requests/<number>/rate")
@login_required
def rate(number):
    ticket = ticket_for_viewer(number)
    form = RateForm()
    if form.validate_on_submit() and conversation.can_rate(ticket, current_user):
        conversation.rate(ticket, current_user, int(form.score.data), form.comment.data)
        flash(_("Thank you for the rating!"), "success")
    else:
        flash(_("Choose a rating from 1 to 5."), "error")
    return redirect(url_for("tickets.show", number=number) + "#rate")


@bp.post("/requests/<number>/reopen")
@login_required
def reopen(number):
    ticket = ticket_for_viewer(number)
    if ActionForm().validate_on_submit():
        try:
            conversation.reopen(ticket, current_user)
        except TicketError:
            flash(
                _("This request can no longer be reopened. File a new one linked to it."), "error"
            )
            return redirect(url_for("wizard.new", linked=ticket.number))
        flash(_("The discussion continues: write what is still wrong below."), "success")
    return redirect(url_for("tickets.show", number=number) + "#reply")


@bp.get("/requests/<number>/updates")
@login_required
def updates(number):
    """New messages after `after` (for the live thread), as rendered HTML."""
    ticket = ticket_for_viewer(number)
    after = optional_int(request.args.get("after")) or 0  # a bad value: the whole thread
    items = [
        (kind, item)
        for kind, item in conversation.thread(ticket, current_user)
        if kind == "message" and item.id > after
    ]
    html = [render_template("tickets/_message.html", message=m, ticket=ticket) for _k, m in items]
    return jsonify(
        html=html,
        last=max([after] + [m.id for _k, m in items]),
        status=ticket.status,
        status_label=str(STATUS_LABELS.get(ticket.status, ticket.status)),
    )


@bp.post("/api/markdown")
@login_required
def markdown_preview():
    """The sanitised HTML of a message being written (the reply box's preview)."""
    text = request.get_json(silent=True) or {}
    body = text.get("text") if isinstance(text, dict) else None
    if not isinstance(body, str) or len(body) > 50_000:
        return jsonify(error={"code": "invalid_parameter", "message": _("Invalid text.")}), 400
    return jsonify(html=render(body).html)


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id):
    """A file of a ticket, only to those who may see the ticket (and its message)."""
    item = db.session.get(Attachment, attachment_id)
    if item is None or not can_view(current_user, item.message.ticket):
        abort(404)
    if item.message.internal and not current_user.is_staff:
        abort(404)
    response = send_stored(item.stored_name, item.filename, item.content_type, item.size)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.get("/api/tickets/<number>")
@login_required
def api_show(number):
    ticket = ticket_for_viewer(number)
    return jsonify(ticket_data(ticket))
