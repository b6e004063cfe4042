"""The specialist's tools on a ticket page: forms preset from the ticket."""

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.models import STAFF_ROLES, User
from portal.extensions import db
from portal.forms import choices
from portal.sla import SERVICE_LEVELS
from portal.tickets.categories import configured_categories
from portal.tickets.conversation import STAFF_STATUSES, canned_answers
from portal.tickets.forms import (
    AssignForm,
    CategoryForm,
    CriticalityForm,
    LevelForm,
    MergeForm,
    PanelForm,
    StatusForm,
)
from portal.tickets.messages import CRITICALITY_LABELS, LEVEL_LABELS, STAFF_STATUS_LABELS
from portal.tickets.models import CRITICALITIES, Ticket
from portal.tickets.services import can_take


def staff_panel(ticket: Ticket) -> dict:
    """Forms for assigning, status, category, criticality, level and merging, and saved replies."""
    lang = str(get_locale())
    agents = db.session.scalars(select(User).where(User.role.in_(STAFF_ROLES)).order_by(User.name))
    assign = AssignForm(assignee=str(ticket.assignee_id or ""))
    assign.assignee.choices = choices([("", _("Nobody"))] + [(str(a.id), a.name) for a in agents])
    status = StatusForm(status=ticket.status)
    shown = STAFF_STATUSES if ticket.status in STAFF_STATUSES else (ticket.status, *STAFF_STATUSES)
    status.status.choices = choices([(s, STAFF_STATUS_LABELS[s]) for s in shown])
    category = CategoryForm(category=ticket.category)
    category.category.choices = choices(
        [(k, c.title_in(lang)) for k, c in configured_categories().items()]
    )
    criticality = CriticalityForm(criticality=ticket.criticality)
    criticality.criticality.choices = choices([(c, CRITICALITY_LABELS[c]) for c in CRITICALITIES])
    level = LevelForm(service_level=ticket.service_level)
    level.service_level.choices = choices([(lv, LEVEL_LABELS[lv]) for lv in SERVICE_LEVELS])
    panel = PanelForm(
        status=ticket.status,
        assignee=str(ticket.assignee_id or ""),
        service_level=ticket.service_level,
        criticality=ticket.criticality,
        category=ticket.category,
    )
    panel.status.choices = status.status.choices
    panel.assignee.choices = assign.assignee.choices
    panel.service_level.choices = level.service_level.choices
    panel.criticality.choices = criticality.criticality.choices
    panel.category.choices = category.category.choices
    return {
        "panel": panel,
        "assign": assign,
        "status": status,
        "category": category,
        "criticality": criticality,
        "level": level,
        "merge": MergeForm(),
        "canned": canned_answers(),
        "is_mine": ticket.assignee_id == current_user.id,
        "can_take": can_take(ticket, current_user),
    }
