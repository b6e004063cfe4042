"""Forms of the knowledge base: search (GET, no CSRF), the API's parameters and votes."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length as LengthValidator
from wtforms.validators import NumberRange, Optional

from portal.params import StrictIntegerField

LANG_CHOICES = [
    SelectChoice("", _l("All languages")),
    SelectChoice("ru", "Русский"),
    SelectChoice("en", "English"),
]
MAX_QUERY_INPUT = 10_000


class _QueryForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search"), default="", filters=[lambda v: (v or "")[:MAX_QUERY_INPUT]])
    lang = SelectField(_l("Language"), choices=LANG_CHOICES, default="", validate_choice=True)
    category = StringField(_l("Category"), default="", validators=[LengthValidator(max=100)])


class SearchForm(_QueryForm):
    """The search page's query string."""

    page = StrictIntegerField(
        _l("Page"), default=1, validators=[Optional(), NumberRange(min=1, max=1000)]
    )


class ApiSearchForm(SearchForm):
    """`/api/search` parameters."""

    limit = StrictIntegerField(
        _l("Limit"), default=10, validators=[Optional(), NumberRange(min=1, max=50)]
    )


MAX_EXCLUDED = 50


class ApiSuggestForm(_QueryForm):
    """`/api/suggest` parameters; `exclude` lists the slugs a reader said were "Not it"."""

    limit = StrictIntegerField(
        _l("Limit"), default=5, validators=[Optional(), NumberRange(min=1, max=20)]
    )
    exclude = StringField(_l("Exclude"), default="", validators=[LengthValidator(max=5000)])

    @property
    def excluded(self) -> frozenset[str]:
        slugs = (s.strip() for s in (self.exclude.data or "").split(","))
        return frozenset(s for s in slugs if s)


class VoteForm(FlaskForm):
    """ "Was this helpful?" with a comment on "No"."""

    helpful = RadioField(
        choices=[SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))], validate_choice=True
    )
    comment = TextAreaField(_l("What was missing?"), validators=[LengthValidator(max=1000)])


class LanguageForm(FlaskForm):
    """Switching the interface language."""

    lang = SelectField(
        choices=[SelectChoice("ru", "Русский"), SelectChoice("en", "English")], validate_choice=True
    )
    next = StringField(default="/")
