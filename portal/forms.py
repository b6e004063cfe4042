"""Helpers shared by the forms of every domain."""

from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms import SelectChoice


def choices(pairs: Iterable[tuple[str, str]] | dict) -> list[SelectChoice]:
    """Select choices from (value, label) pairs or a mapping."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return [SelectChoice(value, label) for value, label in items]


class ActionForm(FlaskForm):
    """A button that changes something: only its CSRF token is checked."""
