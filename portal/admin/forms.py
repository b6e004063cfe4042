"""Administration forms: users, organisations, coupons, the business calendar."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, TimeField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.accounts.models import ROLES, TIERS
from portal.forms import choices
from portal.tickets.messages import TIER_LABELS

ROLE_LABELS = {
    "customer": _l("Customer"),
    "agent": _l("Support specialist"),
    "editor": _l("Editor"),
    "admin": _l("Administrator"),
}
OVERRIDE_LABELS = {
    "day_off": _l("Extra day off"),
    "working_day": _l("Extra working day"),
    "short_day": _l("Shortened day"),
}


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    tier = SelectField(_l("Support tier"), choices=choices([(t, TIER_LABELS[t]) for t in TIERS]))


class UserForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), choices=choices([(r, ROLE_LABELS[r]) for r in ROLES]))
    organisation = SelectField(_l("Organisation"), validate_choice=True)
    is_org_admin = BooleanField(_l("Sees all requests of the organisation"))
    phone = StringField(
        _l("Phone (shown to customers of special requests)"),
        validators=[Optional(), Length(max=40)],
    )
    active = BooleanField(_l("Account active"))


class OverrideForm(FlaskForm):
    day = DateField(_l("Date"), validators=[DataRequired()])
    kind = SelectField(_l("Kind"), choices=choices(OVERRIDE_LABELS))
    opens = TimeField(_l("Opens"), validators=[Optional()])
    closes = TimeField(_l("Closes"), validators=[Optional()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])

    def validate_closes(self, field):
        if bool(self.opens.data) != bool(field.data):
            raise ValidationError(_l("Give both the opening and the closing time, or neither."))
        if field.data and self.opens.data and field.data <= self.opens.data:
            raise ValidationError(_l("Closing time must be after the opening time."))
        if field.data and self.kind.data == "day_off":
            raise ValidationError(_l("A day off has no working hours."))
