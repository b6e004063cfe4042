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
    scope_note = TextAreaField(
        _l("Why file it anyway"),
        description=_l("Kept with the request; a specialist reviews its scope."),
        validators=[Optional(), Length(max=1000)],
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
