"""Cleaning text people type before it is stored: no control characters, no bidi tricks."""

import re

# C0 controls but tab and newline, DEL, C1 controls; bidi embeddings, overrides and
# isolates (U+202A-U+202E, U+2066-U+2069) that make a title read backwards; unpaired
# surrogates (JSON "\ud800"), which no database can store.
_UNWANTED = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_LINE_BREAK = re.compile("\r\n?|[\u2028\u2029\x85]")


def clean_user_text(text: str | None, single_line: bool = False) -> str:
    """Text without control characters; CR LF becomes LF; one line when `single_line`."""
    if not text:
        return ""
    text = _UNWANTED.sub("", _LINE_BREAK.sub("\n", text))
    if single_line:
        text = " ".join(text.split())
    return text


def single_line(value):
    """WTForms filter for one-line fields (names, titles); leaves non-text values alone."""
    return clean_user_text(value, single_line=True) if isinstance(value, str) else value
