"""Administration forms: users, organisations, coupons, the business calendar."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, TimeField
from wtforms.validators import DataRequired, Length, Optional

from portal.accounts.models import ROLES
from portal.forms import choices
from portal.sla import TIERS
from portal.text import single_line
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

# Why a stored correction is shown flagged (see calendar.services.override_problem).
OVERRIDE_PROBLEMS = {
    "kind": _l("Unknown kind: ignored. Remove it and add it again."),
    "half_hours": _l("Only one of the opening and closing times is set: the hours are ignored."),
    "hours_on_day_off": _l("A day off with working hours: the hours are ignored."),
    "order": _l("Closes before it opens: the hours are ignored."),
}


class OrganisationForm(FlaskForm):
    name = StringField(
        _l("Name"), filters=[single_line], validators=[DataRequired(), Length(max=200)]
    )
    tier = SelectField(_l("Support tier"), choices=choices([(t, TIER_LABELS[t]) for t in TIERS]))


class UserForm(FlaskForm):
    name = StringField(
        _l("Full name"), filters=[single_line], validators=[DataRequired(), Length(max=200)]
    )
    role = SelectField(_l("Role"), choices=choices([(r, ROLE_LABELS[r]) for r in ROLES]))
    organisation = SelectField(_l("Organisation"), validate_choice=True)
    is_org_admin = BooleanField(_l("Sees all requests of the organisation"))
    phone = StringField(
        _l("Phone (shown to customers of special requests)"),
        filters=[single_line],
        validators=[Optional(), Length(max=40)],
    )
    active = BooleanField(_l("Account active"))


class OverrideForm(FlaskForm):
    day = DateField(_l("Date"), validators=[DataRequired()])
    kind = SelectField(_l("Kind"), choices=choices(OVERRIDE_LABELS))
    opens = TimeField(_l("Opens"), validators=[Optional()])
    closes = TimeField(_l("Closes"), validators=[Optional()])
    note = StringField(_l("Note"), filters=[single_line], validators=[Optional(), Length(max=200)])

    def validate(self, extra_validators=None) -> bool:
        # Not validate_closes: Optional() on an empty field ends its checks before they run.
        valid = super().validate(extra_validators)
        if self.opens.errors or self.closes.errors:
            return False
        opens, closes, problem = self.opens.data, self.closes.data, None
        if (opens is None) != (closes is None):
            problem = _l("Give both the opening and the closing time, or neither.")
        elif opens is not None and closes <= opens:
            problem = _l("Closing time must be after the opening time.")
        elif opens is not None and self.kind.data == "day_off":
            problem = _l("A day off has no working hours.")
        if problem:
            self.closes.errors = [*self.closes.errors, problem]
            return False
        return valid
