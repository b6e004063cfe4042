"""The article editor's form and the insights' date range."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from portal.forms import choices

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


class ArticleForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    slug = StringField(
        _l("Address (slug)"),
        validators=[
            DataRequired(),
            Length(max=120),
            Regexp(SLUG, message=_l("Lowercase Latin letters, digits and hyphens.")),
        ],
        description=_l("The article's URL: /kb/<slug>. Changing it moves the article."),
    )
    lang = SelectField(_l("Language"), choices=choices({"ru": "Русский", "en": "English"}))
    category = StringField(
        _l("Topic folder"),
        validators=[
            DataRequired(),
            Length(max=60),
            Regexp(SLUG, message=_l("Lowercase Latin letters, digits and hyphens.")),
        ],
        description=_l("A folder of articles/, e.g. crm. Changing it moves the article."),
    )
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=400)])
    tags = StringField(_l("Tags, comma-separated"), validators=[Optional(), Length(max=400)])
    translation_of = StringField(
        _l("Translation key"),
        validators=[Optional(), Length(max=100)],
        description=_l("The same key in every language version of the article."),
    )
    draft = BooleanField(_l("Draft: not published"))
    body = TextAreaField(_l("Text (Markdown)"), validators=[DataRequired(), Length(max=200_000)])
    base_hash = HiddenField()


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("Until"), validators=[Optional()])
