"""Forms of the specialists' console."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from portal.forms import choices
from portal.text import single_line
from portal.tickets.messages import CRITICALITY_CHOICES


class QueueFilterForm(FlaskForm):
    """Filters of the queue (GET)."""

    class Meta:
        csrf = False

    category = SelectField(_l("Category"), validate_choice=False, default="")
    tier = SelectField(_l("Tier"), validate_choice=False, default="")
    level = SelectField(_l("Service level"), validate_choice=False, default="")
    assignee = SelectField(_l("Assignee"), validate_choice=False, default="")
    overdue = SelectField(_l("Deadline"), validate_choice=False, default="")


class PhoneRequestForm(FlaskForm):
    """A request a specialist takes by phone on a customer's behalf."""

    customer_email = EmailField(
        _l("Customer's e-mail"), validators=[DataRequired(), Email(), Length(max=254)]
    )
    title = StringField(
        _l("Title"), filters=[single_line], validators=[DataRequired(), Length(max=200)]
    )
    category = SelectField(_l("Problem type"), validators=[DataRequired()])
    criticality = SelectField(
        _l("Criticality"), choices=choices(CRITICALITY_CHOICES), default="normal"
    )
    description = TextAreaField(
        _l("What the customer said"), validators=[DataRequired(), Length(max=50_000)]
    )
    coupon = StringField(
        _l("Coupon (if the customer named one)"), validators=[Optional(), Length(max=40)]
    )


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


class CannedAnswerForm(FlaskForm):
    title = StringField(
        _l("Title"), filters=[single_line], validators=[DataRequired(), Length(max=200)]
    )
    body = TextAreaField(
        _l("Text"),
        validators=[DataRequired(), Length(max=20_000)],
        description=_l(
            "Placeholders: {customer_name}, {ticket_number}, {ticket_title}, {agent_name}."
        ),
    )
    lang = SelectField(_l("Language"), choices=choices({"ru": "Русский", "en": "English"}))
