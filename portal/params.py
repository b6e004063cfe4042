"""Strict whole numbers from query strings, URL paths and form fields.

`int()` takes far more than people type: '٣' (an Arabic-Indic digit), '1_000', ' 7 ',
'+5'; and `str.isdigit()` is true for '²', which `int()` then refuses. Values this big
overflow a database integer. Only ASCII digits of bounded length and size pass here.
"""

import re

from flask_babel import lazy_gettext as _l
from werkzeug.routing import BaseConverter, ValidationError
from wtforms import IntegerField
from wtforms import ValidationError as FieldError

MAX_ID = 2**31 - 1  # the largest value an INTEGER column holds on PostgreSQL
_DIGITS = re.compile(r"[0-9]{1,10}")
NOT_A_NUMBER = _l("Enter a whole number (digits 0-9 only).")


class BadNumber(ValueError):
    """A parameter that is not a whole number within its bounds."""


def parse_int(text: str | None, minimum: int = 0, maximum: int = MAX_ID) -> int:
    """The whole number `text` spells in ASCII digits, within [minimum, maximum]."""
    if text is None or not _DIGITS.fullmatch(text):
        raise BadNumber(text)
    value = int(text)
    if not minimum <= value <= maximum:
        raise BadNumber(text)
    return value


def optional_int(text: str | None, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """Like `parse_int`, but None for a bad or missing value (for filters to ignore)."""
    try:
        return parse_int(text, minimum, maximum)
    except BadNumber:
        return None


class StrictIntegerField(IntegerField):
    """An IntegerField that accepts ASCII digits only, never '٣', '1_000' or '²'."""

    def process_formdata(self, valuelist):
        if not valuelist or valuelist[0] in ("", None):
            return
        try:
            self.data = parse_int(valuelist[0], minimum=0)
        except BadNumber:
            self.data = None
            raise FieldError(NOT_A_NUMBER) from None


class IdConverter(BaseConverter):
    """`<int:…>` in routes: ASCII digits that fit a database id, else 404."""

    regex = r"[0-9]{1,10}"
    weight = 50
    part_isolating = True

    def to_python(self, value: str) -> int:
        try:
            return parse_int(value)
        except BadNumber:
            raise ValidationError() from None

    def to_url(self, value) -> str:
        return str(int(value))
