"""Forms of the request wizard; every step is validated here."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, FieldList, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from portal.forms import choices
from portal.text import single_line
from portal.tickets.messages import CRITICALITY_CHOICES


class SubjectForm(FlaskForm):
    """Step 1: the title and the problem type."""

    title = StringField(
        _l("Title"),
        filters=[single_line],
        validators=[DataRequired(), Length(min=5, max=200)],
        description=_l(
            "In a few words: what does not work? For example: “Mail from CRM does "
            "not reach clients”."
        ),
    )
    category = SelectField(_l("Problem type"), validators=[DataRequired()])


class DescriptionForm(FlaskForm):
    """The detailed description, criticality, files and an optional coupon."""

    description = TextAreaField(
        _l("Detailed description"),
        validators=[DataRequired(), Length(min=20, max=50_000)],
        description=_l(
            "What you did, what happened, what you expected; error messages, page "
            "addresses, since when. One request, one problem."
        ),
    )
    criticality = SelectField(
        _l("Criticality"), choices=choices(CRITICALITY_CHOICES), default="normal"
    )
    files = MultipleFileField(
        _l("Attach files"),
        description=_l("Screenshots, logs, documents: up to %(count)s files of up to %(mb)s MB."),
    )
    coupon = StringField(
        _l("Coupon for a special request"),
        validators=[
            Optional(),
            Length(max=40),
            Regexp(r"^[A-Za-z0-9\s-]+$", message=_l("A coupon has only letters and digits.")),
        ],
        description=_l(
            "Only if your company has a coupon: the request is answered within an "
            "hour, round the clock."
        ),
    )


class PreviewForm(FlaskForm):
    """Submit; when the request looks out of scope, the customer may insist."""

    insist = BooleanField(_l("This is a malfunction of the product"))
    insist_note = TextAreaField(
        _l("Why it is a malfunction of the product"), validators=[Length(max=1000)]
    )

    def validate_insist_note(self, field):
        if self.insist.data and not (field.data or "").strip():
            raise ValidationError(_l("Add a sentence on what does not work in the product."))


class DeflectForm(FlaskForm):
    """“This solved my problem” for an article."""

    slug = HiddenField(validators=[DataRequired(), Length(max=200)])
    title = HiddenField(validators=[Optional(), Length(max=200)])


class FunnelEventForm(FlaskForm):
    """What the suggestion panel reports (JSON; the CSRF token comes in a header)."""

    class Meta:
        csrf = False

    kind = SelectField(
        choices=choices([(k, k) for k in ("suggestions_shown", "article_opened", "not_it")])
    )
    slugs = FieldList(StringField(validators=[Length(max=200)]), max_entries=20)
