"""Cleaning what people type: control characters, bidi overrides and line ends."""

import pytest

from portal.jsonbody import too_deep
from portal.text import clean_user_text, single_line


def test_the_reported_payload_loses_its_control_characters():
    assert clean_user_text("\x01\x1b[31mred\x07") == "[31mred"


@pytest.mark.parametrize(
    "char",
    ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x80", "\x9b", "\x9f"]
    + ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
    + ["\ud800", "\udfff"],
)
def test_controls_bidi_overrides_and_lone_surrogates_are_removed(char):
    assert clean_user_text(f"a{char}b") == "ab"


def test_tabs_newlines_and_every_script_are_kept_and_line_ends_become_newlines():
    text = "Заявка\t№ 5\r\nСтрока\rещё\u2028и ещё\n日本語 עברית 🙂"
    assert clean_user_text(text) == "Заявка\t№ 5\nСтрока\nещё\nи ещё\n日本語 עברית 🙂"


def test_single_line_fields_collapse_whitespace():
    assert clean_user_text("  Не\r\nработает\t\x07CRM  ", single_line=True) == "Не работает CRM"
    assert single_line("a\u202eb\nc") == "ab c"
    assert single_line(None) is None
    assert clean_user_text(None) == ""


@pytest.mark.parametrize(
    ("document", "deep"),
    [
        ("[" * 5000, True),
        (b"[" * 33 + b"]" * 33, True),
        ("[" * 32 + "]" * 32, False),
        ('{"a": ' * 40, True),
        ('["' + "[" * 5000 + '"]', False),  # inside a string
        ('["\\"' + "[" * 50 + '"]', False),  # an escaped quote does not end the string
        ("[]" * 10_000, False),
        ('{"k": [1, {"b": "]]]]"}]}' * 100, False),
    ],
)
def test_json_nesting_is_measured_outside_strings(document, deep):
    assert too_deep(document) is deep
