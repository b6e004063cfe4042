"""The article editor's form and the insights' date range."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from portal.forms import choices
from portal.kb.articles import MAX_QUESTIONS, QUESTION_LENGTH, clean_question
from portal.text import single_line

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


def question_lines(text: str | None) -> list[str]:
    """One question per line, spaces collapsed; blank lines and repeats (in any case) left out."""
    seen: set[str] = set()
    questions = []
    for line in (text or "").splitlines():
        question = clean_question(line)
        if question and question.casefold() not in seen:
            seen.add(question.casefold())
            questions.append(question)
    return questions


class ArticleForm(FlaskForm):
    title = StringField(
        _l("Title"), filters=[single_line], validators=[DataRequired(), Length(max=200)]
    )
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
    questions = TextAreaField(
        _l("Questions customers ask (one per line)"),
        validators=[Optional(), Length(max=20_000)],
        description=_l(
            "How customers put what this article answers, in their own words. "
            "Search uses them; readers do not see them."
        ),
    )
    draft = BooleanField(_l("Draft: not published"))
    minor = BooleanField(
        _l("Minor change: keep the “Updated” date"),
        description=_l("For a typo or a link; readers are not told the article changed."),
    )
    body = TextAreaField(_l("Text (Markdown)"), validators=[DataRequired(), Length(max=200_000)])
    base_hash = HiddenField()

    def validate_questions(self, field):
        low, high = QUESTION_LENGTH
        questions = question_lines(field.data)
        for question in questions:
            if not low <= len(question) <= high:
                shown = question if len(question) <= 60 else f"{question[:60]}…"
                raise ValidationError(
                    _(
                        "Each question takes %(low)d to %(high)d characters: “%(question)s”.",
                        low=low,
                        high=high,
                        question=shown,
                    )
                )
        if len(questions) > MAX_QUESTIONS:
            raise ValidationError(
                _(
                    "At most %(count)d questions; this has %(given)d.",
                    count=MAX_QUESTIONS,
                    given=len(questions),
                )
            )


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("Until"), validators=[Optional()])
