"""JSON request bodies for the whole site: bounded in size and in nesting before parsing.

Python's parser recurses once per `[` or `{`: a body of a few thousand brackets raises
RecursionError, which no view expects. Here such a body is refused as invalid JSON
(a ValueError, so `get_json()` answers 400 and `get_json(silent=True)` returns None).
"""

import re

from flask import Request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import RequestEntityTooLarge

MAX_JSON_DEPTH = 32
MAX_JSON_BYTES = 1024 * 1024
# A string literal, to its end even if unterminated so that the scan stays linear.
_STRING = {
    bytes: re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL),
    str: re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL),
}
_NOT_BRACKET = {bytes: re.compile(rb"[^\[\]{}]+"), str: re.compile(r"[^\[\]{}]+")}
_OPENERS = {bytes: (b"[", b"{"), str: ("[", "{")}
_EMPTY_PAIR = {bytes: re.compile(rb"\[\]|\{\}"), str: re.compile(r"\[\]|\{\}")}


def too_deep(document: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether brackets outside string literals nest deeper than `limit` (or do not match)."""
    kind = str if isinstance(document, str) else bytes
    document = kind(document)
    opening = sum(document.count(bracket) for bracket in _OPENERS[kind])
    if opening <= limit:
        return False  # too few brackets to be deep: the parser copes
    brackets = _NOT_BRACKET[kind].sub(kind(), _STRING[kind].sub(kind(), document))
    # Each pass removes the innermost pairs: after `limit` passes a shallow document is gone.
    for _ in range(limit):
        shorter = _EMPTY_PAIR[kind].sub(kind(), brackets)
        if shorter == brackets:
            break
        brackets = shorter
    return bool(brackets)


class GuardedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing documents too large or too deeply nested to parse safely."""

    def loads(self, s: str | bytes, **kwargs):
        if len(s) > MAX_JSON_BYTES:
            raise ValueError("JSON document too large")
        if too_deep(s):
            raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


class PortalRequest(Request):
    """A request whose JSON body may be at most MAX_JSON_BYTES (else 413), whatever the
    upload limit of forms with files is."""

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        # The stream may already be open (the CSRF check reads the form): check the length.
        if self.content_length is not None and self.content_length > MAX_JSON_BYTES:
            raise RequestEntityTooLarge()
        return super().get_json(force=force, silent=silent, cache=cache)
