"""Strict whole numbers: ASCII digits within bounds, nothing `int()` would also take."""

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form

from portal.params import MAX_ID, BadNumber, StrictIntegerField, optional_int, parse_int


@pytest.mark.parametrize("text", ["0", "7", "2026", str(MAX_ID)])
def test_ascii_digits_within_range_are_numbers(text):
    assert parse_int(text) == int(text)


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "²",  # '²'.isdigit() is true, int('²') fails
        "٣",  # int('٣') == 3
        "１２",  # full-width digits
        "1_000",  # int('1_000') == 1000
        " 7",
        "7 ",
        "+5",
        "-1",
        "0x10",
        "1e3",
        "99999999999999999999999999",
        str(MAX_ID + 1),
        "1" * 1000,
    ],
)
def test_anything_else_is_refused(text):
    with pytest.raises(BadNumber):
        parse_int(text)
    assert optional_int(text) is None


def test_bounds_are_the_callers():
    assert parse_int("5", minimum=1, maximum=5) == 5
    with pytest.raises(BadNumber):
        parse_int("0", minimum=1)
    with pytest.raises(BadNumber):
        parse_int("6", maximum=5)


class PageForm(Form):
    page = StrictIntegerField(default=1)


@pytest.mark.parametrize("value", ["²", "٣", "1_000", "99999999999999999999999"])
def test_the_form_field_refuses_what_int_would_take_or_choke_on(value):
    form = PageForm(MultiDict({"page": value}))
    assert not form.validate() and form.page.data is None and form.errors["page"]


def test_the_form_field_reads_plain_digits_and_keeps_its_default_when_absent():
    assert PageForm(MultiDict({"page": "3"})).page.data == 3
    form = PageForm(MultiDict())
    assert form.validate() and form.page.data == 1
