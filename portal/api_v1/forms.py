"""Forms of the integration API: query strings, and JSON bodies turned into form data."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from portal.forms import choices
from portal.params import StrictIntegerField
from portal.sla import SERVICE_LEVELS
from portal.tickets.categories import Category, details_form_class, details_from_form
from portal.tickets.models import CRITICALITIES, STATUSES

MAX_PER_PAGE = 100


UNSTORABLE = _l("Contains characters that cannot be stored.")


def _storable_text(value: str) -> bool:
    try:
        value.encode("utf-8")  # an unpaired surrogate (JSON "\ud800") fails here
    except UnicodeEncodeError:
        return False
    return "\x00" not in value  # PostgreSQL text cannot hold NUL


def storable(_form, field) -> None:
    """Text a database can keep: no NUL characters, no unpaired surrogates."""
    if isinstance(field.data, str) and not _storable_text(field.data):
        raise ValidationError(UNSTORABLE)


class ApiForm(FlaskForm):
    """Validated from the query string or a JSON body; a bearer token replaces CSRF."""

    class Meta:
        csrf = False


def _any(values) -> list:
    return choices([("", "")] + [(v, v) for v in values])


class TicketQueryForm(ApiForm):
    """`GET /api/v1/tickets`: filters and pages (the category's choices come from the app)."""

    status = SelectField(choices=_any(STATUSES), default="", validate_choice=True)
    category = SelectField(default="", validate_choice=True)
    criticality = SelectField(choices=_any(CRITICALITIES), default="", validate_choice=True)
    service_level = SelectField(choices=_any(SERVICE_LEVELS), default="", validate_choice=True)
    q = StringField(default="", validators=[Optional(), Length(max=200), storable])
    page = StrictIntegerField(default=1, validators=[Optional(), NumberRange(min=1, max=10_000)])
    per_page = StrictIntegerField(
        default=20, validators=[Optional(), NumberRange(min=1, max=MAX_PER_PAGE)]
    )


class ArticleQueryForm(ApiForm):
    """`GET /api/v1/articles`: a search, or the list when `q` is empty."""

    q = StringField(default="", validators=[Optional(), Length(max=1000)])
    lang = SelectField(choices=_any(("ru", "en")), default="", validate_choice=True)
    category = StringField(default="", validators=[Optional(), Length(max=100)])
    page = StrictIntegerField(default=1, validators=[Optional(), NumberRange(min=1, max=1000)])
    per_page = StrictIntegerField(
        default=10, validators=[Optional(), NumberRange(min=1, max=MAX_PER_PAGE)]
    )


class TicketForm(ApiForm):
    """`POST /api/v1/tickets`: the wizard's rules for the same fields."""

    title = StringField(validators=[DataRequired(), Length(min=5, max=200), storable])
    description = StringField(validators=[DataRequired(), Length(min=20, max=50_000), storable])
    category = SelectField(validators=[DataRequired()], validate_choice=True)
    criticality = SelectField(
        choices=choices([(c, c) for c in CRITICALITIES]), default="normal", validate_choice=True
    )
    coupon = StringField(
        validators=[
            Optional(),
            Length(max=40),
            Regexp(r"^[A-Za-z0-9\s-]+$", message=_l("A coupon has only letters and digits.")),
        ]
    )
    malfunction = StringField(validators=[Optional(), Length(max=1000), storable])


class ReplyForm(ApiForm):
    """`POST /api/v1/tickets/<number>/replies`."""

    body = StringField(validators=[DataRequired(), Length(max=50_000), storable])
    internal = BooleanField(default=False)


class StatusForm(ApiForm):
    """`POST /api/v1/tickets/<number>/status`."""

    status = SelectField(
        choices=choices([(s, s) for s in STATUSES]),
        validators=[DataRequired()],
        validate_choice=True,
    )


def from_json(form_class: type[FlaskForm], payload: dict) -> tuple[FlaskForm, dict]:
    """The form bound to a JSON object's values, and the keys it could not take.

    Strings go to text and choice fields, true/false to checkboxes; a key the form does not
    have, or a value of the wrong JSON type, is reported instead of being guessed at. A null
    counts as absent.
    """
    declared = form_class(formdata=None, meta={"csrf": False})._fields
    pairs, problems = [], {}
    for key, value in payload.items():
        field = declared.get(key)
        if field is None:
            problems[key] = [str(_l("Unknown field."))]
        elif value is None:
            continue
        elif isinstance(field, BooleanField):
            if isinstance(value, bool):
                pairs += [(key, "y")] if value else []
            else:
                problems[key] = [str(_l("Must be true or false."))]
        elif isinstance(value, str):
            pairs.append((key, value))
        else:
            problems[key] = [str(_l("Must be a string."))]
    return form_class(formdata=MultiDict(pairs), meta={"csrf": False}), problems


def details_from_json(category: Category, value) -> tuple[dict, dict]:
    """A category's extra fields from the request's `details` object, checked by the same
    form as the wizard's step; problems are reported as `details.<field>`."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        return {}, {"details": [str(_l("Must be an object."))]}
    form, problems = from_json(details_form_class(category, "en"), value)
    form.validate()
    for name, errors in form.errors.items():
        problems.setdefault(name, []).extend(str(e) for e in errors)
    for name, text in value.items():
        if isinstance(text, str) and not _storable_text(text):
            problems.setdefault(name, []).append(str(UNSTORABLE))
    details = details_from_form(category, form) if not problems else {}
    return details, {f"details.{name}": errors for name, errors in problems.items()}
