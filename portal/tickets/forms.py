"""Forms of the ticket page and of "My requests"."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.forms import choices
from portal.params import StrictIntegerField

SORTS = {
    "updated": _l("Last activity"),
    "created": _l("Newest first"),
    "due": _l("Answer deadline"),
    "number": _l("Number"),
}


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your message"), validators=[Optional(), Length(max=50_000)])
    files = MultipleFileField(_l("Attach files"))
    internal = BooleanField(_l("Internal note (the customer does not see it)"))


class RateForm(FlaskForm):
    score = RadioField(
        _l("Your rating"),
        choices=choices([(str(n), str(n)) for n in range(1, 6)]),
        validators=[DataRequired()],
    )
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])


class RequestsFilterForm(FlaskForm):
    """Filters of "My requests" (GET, no CSRF)."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), validate_choice=True, default="")
    category = SelectField(_l("Problem type"), validate_choice=True, default="")
    criticality = SelectField(_l("Criticality"), validate_choice=True, default="")
    level = SelectField(_l("Service level"), validate_choice=True, default="")
    date_from = DateField(_l("Filed from"), validators=[Optional()])
    date_to = DateField(_l("to"), validators=[Optional()])
    q = StringField(_l("Text or number"), validators=[Optional(), Length(max=200)])
    sort = SelectField(_l("Sort"), choices=choices(SORTS), default="updated", validate_choice=True)
    mine = SelectField(_l("Whose"), validate_choice=True, default="mine")
    page = StrictIntegerField(default=1, validators=[Optional(), NumberRange(min=1, max=10_000)])


# The specialist's tools on a ticket page (`portal.tickets.panel`).
class AssignForm(FlaskForm):
    assignee = SelectField(_l("Specialist"), validate_choice=True)


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"), validate_choice=True)


class CategoryForm(FlaskForm):
    category = SelectField(_l("Problem type"), validate_choice=True)


class CriticalityForm(FlaskForm):
    criticality = SelectField(_l("Criticality"), validate_choice=True)


class LevelForm(FlaskForm):
    service_level = SelectField(_l("Service level"), validate_choice=True)


class PanelForm(FlaskForm):
    """The specialist's panel: every setting of a ticket, saved together."""

    status = SelectField(_l("Status"), validate_choice=True)
    assignee = SelectField(_l("Specialist"), validate_choice=True)
    service_level = SelectField(_l("Service level"), validate_choice=True)
    criticality = SelectField(_l("Criticality"), validate_choice=True)
    category = SelectField(_l("Problem type"), validate_choice=True)


class MergeForm(FlaskForm):
    target = StringField(
        _l("Merge into request number"),
        validators=[DataRequired(), Length(max=20)],
        description=_l("Another request of the same customer, e.g. 2026-000123."),
    )
