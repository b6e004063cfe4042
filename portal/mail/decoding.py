"""Bytes and header values of incoming mail as text: charsets declared, misdeclared or
missing, RFC 2047 encoded words, addresses and message ids. Pure standard library."""

import binascii
import codecs
import contextlib
import re
from collections.abc import Iterable
from email.message import Message
from email.utils import getaddresses

# --- bytes to text ------------------------------------------------------------------------------

_LOWER = re.compile("[а-яё]")
_FREQUENT = re.compile("[оеаинтсрвл]", re.IGNORECASE)
_CAPS_IN_WORD = re.compile("(?<=[а-яё])[А-ЯЁ]")
_JUNK = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\u2500-\u25ff]")
CONTROL_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
BODY_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all but tab and line feed


def _codec(charset: str | None) -> str | None:
    """The Python codec of a declared charset, forgiving misspellings ("utf8", "win-1251")."""
    name = (charset or "").strip().strip("\"'").split("*")[0].lower()
    name = re.sub(r"^(?:x-)?(?:windows|win|cp|ms|ansi)[-_ ]?(\d{3,4})$", r"cp\1", name)
    name = re.sub(r"^(?:x-)?(?:unicode-1-1-)?utf[-_ ]?(8|16|32)$", r"utf-\1", name)
    name = re.sub(r"^(?:x-)?koi8[-_ ]?([ru]?)$", lambda m: f"koi8-{m.group(1) or 'r'}", name)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    return info.name if info._is_text_encoding else None  # not "base64", "rot13"...


def _guess(data: bytes) -> str:
    """Text of undeclared bytes: UTF-8 if valid, else the likeliest of UTF-8, cp1251, KOI8-R."""
    with contextlib.suppress(UnicodeDecodeError):
        return data.decode("utf-8")

    def russian(codec: str) -> int:  # lower-case and frequent letters for, mojibake against
        text = data[:65536].decode(codec, "replace")
        good = len(_LOWER.findall(text)) + len(_FREQUENT.findall(text))
        return good - 2 * len(_CAPS_IN_WORD.findall(text)) - 3 * len(_JUNK.findall(text))

    return data.decode(max(("utf-8", "cp1251", "koi8-r"), key=russian), "replace")


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Text of `data` in its declared charset, or in the likeliest one if that is missing/wrong."""
    codec = _codec(charset)
    if codec and codec != "ascii":  # "us-ascii" is also what a missing charset means
        with contextlib.suppress(LookupError, UnicodeError, ValueError):
            return data.decode(codec)
        if codec != "utf-8":  # a wrong UTF-8 label is often cp1251 in disguise
            with contextlib.suppress(LookupError, UnicodeError, ValueError):
                return data.decode(codec, "replace")
    return _guess(data)


def _to_bytes(text: str, codec: str = "utf-8") -> bytes:
    """Bytes of a parsed string, restoring the 8-bit bytes the parser kept as surrogate escapes."""
    try:
        return text.encode(codec, "surrogateescape")
    except UnicodeError:
        return text.encode("utf-8", "replace")


def b64_payload(data: bytes) -> bytes:
    """Lenient base64: skip junk characters, decode each padded chunk, drop a dangling character."""
    decoded = []
    for chunk in re.split(rb"=+", re.sub(rb"[^A-Za-z0-9+/=]", b"", data)):
        chunk = chunk[:-1] if len(chunk) % 4 == 1 else chunk
        decoded.append(binascii.a2b_base64(chunk + b"=" * (-len(chunk) % 4)))
    return b"".join(decoded)


def _clean(text: str) -> str:
    """One line: control characters dropped, runs of whitespace collapsed."""
    return " ".join(CONTROL_CHARS.sub(" ", text).split())


# --- headers ------------------------------------------------------------------------------------

_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,64})\?([bBqQ])\?([^?\s]*)(?:\?=|(?=\s)|$)")
_ADDR_SPEC = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){0,8}")


def raw_header_values(msg: Message, name: str) -> list[str]:
    """Every value of a header, unfolded, with undeclared 8-bit bytes decoded."""
    values = [re.sub(r"[\r\n]", "", str(v)) for k, v in msg.raw_items() if k.lower() == name]
    return [_guess(_to_bytes(v)) if re.search("[\udc80-\udcff]", v) else v for v in values]


def raw_header(msg: Message, name: str) -> str:
    return next(iter(raw_header_values(msg, name)), "")


def _decode_words(value: str) -> str:
    """Decode RFC 2047 words, tolerating unknown charsets, truncation and split characters."""
    chunks: list[tuple[str | None, bytearray]] = [(None, bytearray())]  # None: plain text
    position = 0
    for match in _ENCODED_WORD.finditer(value):
        gap = value[position : match.start()]
        if gap.strip() or position == 0:  # whitespace between two encoded words is not text
            chunks.append((None, bytearray(_to_bytes(gap))))
        charset, kind, text = match.group(1).lower(), match.group(2).lower(), match.group(3)
        encoded = text.encode("ascii", "replace")
        data = b64_payload(encoded) if kind == "b" else binascii.a2b_qp(encoded, header=True)
        if chunks[-1][0] != charset:  # a character may be split across two words: join them
            chunks.append((charset, bytearray()))
        chunks[-1][1].extend(data)
        position = match.end()
    chunks.append((None, bytearray(_to_bytes(value[position:]))))
    return "".join(decode_bytes(bytes(data), charset) for charset, data in chunks)


def decoded_header(msg: Message, name: str) -> str:
    return _clean(_decode_words(raw_header(msg, name)))


def header_addresses(values: Iterable[str]) -> list[tuple[str, str]]:
    """(display name, lower-case bare address) pairs; a plain scan when a header is garbage."""
    pairs = []
    for value in values:
        try:
            found = [(name, addr) for name, addr in getaddresses([value]) if "@" in addr]
        except Exception:  # getaddresses has tripped on garbage before
            found = []
        for name, addr in found or [("", addr) for addr in _ADDR_SPEC.findall(value)]:
            if spec := _ADDR_SPEC.search(addr.strip().lower()):
                pairs.append((_clean(_decode_words(name)), spec.group(0).strip(".")))
    return pairs


def header_message_ids(value: str) -> list[str]:
    """Message ids in angle brackets, also from clients that forgot the brackets."""
    ids = ["".join(found.split()) for found in re.findall(r"<([^<>]+)>", value)]
    ids = ids or [token.strip("<>,;") for token in value.split() if "@" in token]
    return list(dict.fromkeys(f"<{i}>" for i in ids if i))


def header_param(part: Message, name: str, header: str = "content-type") -> str | None:
    """A header parameter, parsed with compat32 and decoded (RFC 2231 or RFC 2047)."""
    view = Message()
    view[header] = raw_header(part, header)
    value = view.get_param(name, header=header)
    if isinstance(value, tuple):
        charset, _language, encoded = value
        return decode_bytes(_to_bytes(encoded, "latin-1"), charset)
    return None if value is None else _decode_words(value)
