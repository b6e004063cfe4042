"""Outgoing headers from user text, and the check that a built letter has exactly the headers meant.

Python's `email` package before the fix of CVE-2024-6923 decodes an RFC 2047 encoded word in a
header value it is given and folds the decoded CR/LF back out raw, so a ticket title such as
``=?utf-8?q?=0D=0ABcc:_x@evil.example?=`` became a Bcc: header. `header_text` removes the two
ingredients (control characters and anything that reads as an encoded word) on every Python;
`check_letter` serialises the finished letter as it goes on the wire and parses it back, so a
letter whose header set or body parts change on the way is never sent.
"""

import re
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses

MAX_HEADER_TEXT = 300
# C0 and C1 controls, Unicode line and paragraph separators, bidirectional overrides
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_WORD_START = "=?"  # how every RFC 2047 encoded word begins
_WORD_JOINER = "=\u2060?"  # looks the same to a reader, is no longer an encoded word
# Headers the MIME machinery adds itself; every other one must be among those we set.
MIME_HEADERS = ("mime-version", "content-type", "content-transfer-encoding")


class UnsafeLetter(ValueError):
    """A letter whose headers or parts do not survive serialisation unchanged."""


def header_text(text: object, limit: int = MAX_HEADER_TEXT) -> str:
    """User text made safe for any header: one line, no controls, nothing decoded as RFC 2047."""
    line = " ".join(_UNSAFE.sub(" ", str(text or "")).split())
    return line.replace(_WORD_START, _WORD_JOINER)[:limit]


def mailbox(address: str, display_name: object = "") -> Address:
    """One address for From/To/Reply-To, its display name passed through `header_text`."""
    found = getaddresses([address]) if not _UNSAFE.search(address) else []
    name, spec = found[0] if len(found) == 1 else ("", "")
    spec = spec.strip()
    if spec.count("@") != 1 or spec.startswith("@") or spec.endswith("@") or _WORD_START in spec:
        raise UnsafeLetter(f"not a usable address: {address!r}")
    try:
        return Address(display_name=header_text(display_name or name), addr_spec=spec)
    except (ValueError, IndexError) as exc:  # the registry's own addr-spec check
        raise UnsafeLetter(f"not a usable address: {address!r} ({exc})") from None


def _squeezed(text: str) -> str:
    # folding may add or drop whitespace between encoded words; nothing else may change
    return "".join(str(text).split())


def _addresses(value) -> list[tuple[str, str]]:
    found = getattr(value, "addresses", ())
    return [(_squeezed(a.display_name), a.addr_spec.lower()) for a in found]


def _sent_parts(letter: EmailMessage) -> list[tuple[str, str]]:
    return [
        (
            part.get_content_type(),
            _lines(part.get_content()) if part.get_content_maintype() == "text" else "",
        )
        for part in letter.walk()
        if not part.is_multipart()
    ]


def _wire_parts(parsed: Message) -> list[tuple[str, str]]:
    found = []
    for part in parsed.walk():
        if part.is_multipart():
            continue
        text = ""
        if part.get_content_maintype() == "text":
            data = part.get_payload(decode=True) or b""
            text = _lines(data.decode(part.get_content_charset() or "ascii", "replace"))
        found.append((part.get_content_type(), text))
    return found


def _lines(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip()


def _read_back(name: str, raw: str):
    """A header value as a modern reader decodes it (policy.default, encoded words and all)."""
    return policy.default.header_factory(name, "".join(raw.splitlines()))


def check_letter(letter: EmailMessage) -> bytes:
    """The letter's wire bytes, if parsing them back gives the same headers, values and parts.

    The wire is split with the plain compat32 parser (the header lines are what they are
    under any policy), and only the values are decoded with the modern policy, which is
    several times faster than parsing the whole letter with it.
    """
    try:
        wire = letter.as_bytes(policy=policy.SMTP)
    except (ValueError, TypeError, UnicodeError) as exc:
        raise UnsafeLetter(f"cannot be serialised: {exc}") from None
    parsed = BytesParser(policy=policy.compat32).parsebytes(wire)
    meant = [name.lower() for name in letter]
    found = [name.lower() for name in parsed]
    if found != meant:
        extra = sorted(set(found) - set(meant)) or sorted(set(meant) - set(found))
        raise UnsafeLetter(f"headers changed on serialisation: {', '.join(extra) or 'order'}")
    for name in dict.fromkeys(meant):
        if name in MIME_HEADERS:
            continue
        sent = letter.get_all(name)
        back = [_read_back(name, str(raw)) for raw in parsed.get_all(name)]
        if [_addresses(v) for v in sent] != [_addresses(v) for v in back]:
            raise UnsafeLetter(f"{name} addresses changed on serialisation")
        if [_squeezed(v) for v in sent] != [_squeezed(v) for v in back]:
            raise UnsafeLetter(f"{name} changed on serialisation")
    if _sent_parts(letter) != _wire_parts(parsed):
        raise UnsafeLetter("body parts changed on serialisation")
    return wire
