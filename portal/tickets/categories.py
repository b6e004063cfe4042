"""Request categories from configuration, and the WTForms form of each one's extra fields."""

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    EmailField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import URL, DataRequired, Email, Length, Optional, Regexp

from portal.config import ConfigError

FIELD_TYPES = ("text", "textarea", "email", "phone", "url", "datetime", "select")
PHONE = re.compile(r"^\+?[\d\s()\-.]{5,30}$")


@dataclass(frozen=True)
class ExtraField:
    name: str
    type: str
    required: bool
    label: dict[str, str]
    help: dict[str, str]
    options: tuple[dict, ...] = ()

    def label_in(self, lang: str) -> str:
        return self.label.get(lang) or self.label.get("ru") or self.name

    def shown(self, value, lang: str) -> str:
        """The value as people read it: an option's label, never its stored value."""
        for option in self.options:
            if str(option.get("value")) == str(value):
                return str(option.get(lang) or option.get("ru") or value)
        return "" if value is None else str(value)


@dataclass(frozen=True)
class Category:
    slug: str
    title: dict[str, str]
    kb_category: str | None = None
    fields: tuple[ExtraField, ...] = field(default_factory=tuple)

    def title_in(self, lang: str) -> str:
        return self.title.get(lang) or self.title.get("ru") or self.slug


def configured_categories() -> dict[str, Category]:
    """The current application's request categories (loaded once, at start-up)."""
    return current_app.extensions["ticket_categories"]


def load_categories(path: Path) -> dict[str, Category]:
    """Read and check the categories file; a mistake stops start-up with a clear message."""
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"PORTAL_CATEGORIES_FILE {path}: {exc}") from None
    if not isinstance(data, dict) or not data:
        raise ConfigError(f"PORTAL_CATEGORIES_FILE {path} defines no categories")
    categories = {}
    for slug, info in data.items():
        info = info or {}
        if not isinstance(info, dict) or not isinstance(info.get("fields") or [], list):
            raise ConfigError(f"PORTAL_CATEGORIES_FILE {path}: category {slug} is not a mapping")
        extra = []
        for raw in info.get("fields") or []:
            if (
                not isinstance(raw, dict)
                or raw.get("type") not in FIELD_TYPES
                or not raw.get("name")
            ):
                raise ConfigError(
                    f"PORTAL_CATEGORIES_FILE {path}: category {slug}: bad field {raw!r}"
                )
            extra.append(
                ExtraField(
                    name=str(raw["name"]),
                    type=raw["type"],
                    required=bool(raw.get("required")),
                    label=raw.get("label") or {"ru": raw["name"], "en": raw["name"]},
                    help=raw.get("help") or {},
                    options=tuple(raw.get("options") or ()),
                )
            )
        categories[str(slug)] = Category(
            slug=str(slug),
            title=info.get("title") or {"ru": slug, "en": slug},
            kb_category=info.get("kb_category"),
            fields=tuple(extra),
        )
    return categories


def _wtforms_field(spec: ExtraField, lang: str):
    label = spec.label.get(lang) or spec.name
    description = spec.help.get(lang, "")
    validators = [DataRequired()] if spec.required else [Optional()]
    if spec.type == "select":
        choices = [SelectChoice("", "—")] + [
            SelectChoice(str(o["value"]), o.get(lang) or str(o["value"])) for o in spec.options
        ]
        return SelectField(label, choices=choices, validators=validators, description=description)
    if spec.type == "datetime":
        return DateTimeLocalField(
            label, validators=validators, description=description, format="%Y-%m-%dT%H:%M"
        )
    kinds = {
        "text": (StringField, [Length(max=300)]),
        "textarea": (TextAreaField, [Length(max=5000)]),
        "email": (EmailField, [Email(), Length(max=254)]),
        "url": (URLField, [URL(require_tld=False), Length(max=500)]),
        "phone": (
            StringField,
            [Regexp(PHONE, message=_l("Enter a phone number, e.g. +7 495 123-45-67."))],
        ),
    }
    cls, extra = kinds[spec.type]
    return cls(label, validators=validators + extra, description=description)


def details_form_class(category: Category, lang: str | None = None) -> type[FlaskForm]:
    """A form class with the category's extra fields, labelled in `lang`."""
    lang = lang or str(get_locale())
    attrs = {spec.name: _wtforms_field(spec, lang) for spec in category.fields}
    return type(f"{category.slug.title().replace('-', '')}DetailsForm", (FlaskForm,), attrs)


def details_from_form(category: Category, form: FlaskForm) -> dict:
    """The extra fields' values as plain JSON-ready data."""
    values = {}
    for spec in category.fields:
        value = form[spec.name].data
        if isinstance(value, dt.datetime):
            value = value.strftime("%Y-%m-%d %H:%M")
        if value not in (None, ""):
            values[spec.name] = value.strip() if isinstance(value, str) else value
    return values
