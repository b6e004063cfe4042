"""Incoming e-mail as plain data: who wrote, what is new in the text, the thread, the attachments.

Pure standard library. Header values are read raw and decoded here (RFC 2047 words, undeclared
8-bit bytes, unknown charsets), because the default policy turns such bytes into U+FFFD and raises
on some broken headers; header parameters are read with the lenient compat32 parser. If the
default policy fails on a message at all, the whole message is read again with compat32.
"""

import binascii
import codecs
import contextlib
import email
import email.policy
import mimetypes
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import Message
from email.utils import getaddresses
from html.parser import HTMLParser

MAX_BYTES = 25 * 1024 * 1024
MAX_DEPTH = 20  # nesting of multiparts and forwarded messages that is followed
RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to")
SIGNATURE_TYPE = re.compile(r"application/(?:x-)?p(?:gp|kcs7)-signature")  # not attachments
FORWARD_HEADING = "---------- Forwarded message ----------"


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class InboundMessage:
    sender: str
    sender_name: str
    subject: str
    body: str
    full_body: str
    message_id: str | None
    in_reply_to: list[str]
    references: list[str]
    recipients: list[str]
    attachments: list[InboundAttachment]
    automatic: str | None
    authentication_results: list[str] = field(default_factory=list)  # topmost first


class InboundError(ValueError):
    """A message that cannot become a ticket; .reason is a short code, str() a human message."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


# --- bytes to text ------------------------------------------------------------------------------

_LOWER = re.compile("[а-яё]")
_FREQUENT = re.compile("[оеаинтсрвл]", re.IGNORECASE)
_CAPS_IN_WORD = re.compile("(?<=[а-яё])[А-ЯЁ]")
_JUNK = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\u2500-\u25ff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_BODY_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all but tab and line feed


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


def _decode(data: bytes, charset: str | None = None) -> str:
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


def _b64(data: bytes) -> bytes:
    """Lenient base64: skip junk characters, decode each padded chunk, drop a dangling character."""
    decoded = []
    for chunk in re.split(rb"=+", re.sub(rb"[^A-Za-z0-9+/=]", b"", data)):
        chunk = chunk[:-1] if len(chunk) % 4 == 1 else chunk
        decoded.append(binascii.a2b_base64(chunk + b"=" * (-len(chunk) % 4)))
    return b"".join(decoded)


def _clean(text: str) -> str:
    """One line: control characters dropped, runs of whitespace collapsed."""
    return " ".join(_CONTROL.sub(" ", text).split())


# --- headers ------------------------------------------------------------------------------------

_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,64})\?([bBqQ])\?([^?\s]*)(?:\?=|(?=\s)|$)")
_ADDR_SPEC = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){0,8}")


def _raw_values(msg: Message, name: str) -> list[str]:
    """Every value of a header, unfolded, with undeclared 8-bit bytes decoded."""
    values = [re.sub(r"[\r\n]", "", str(v)) for k, v in msg.raw_items() if k.lower() == name]
    return [_guess(_to_bytes(v)) if re.search("[\udc80-\udcff]", v) else v for v in values]


def _header(msg: Message, name: str) -> str:
    return next(iter(_raw_values(msg, name)), "")


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
        data = _b64(encoded) if kind == "b" else binascii.a2b_qp(encoded, header=True)
        if chunks[-1][0] != charset:  # a character may be split across two words: join them
            chunks.append((charset, bytearray()))
        chunks[-1][1].extend(data)
        position = match.end()
    chunks.append((None, bytearray(_to_bytes(value[position:]))))
    return "".join(_decode(bytes(data), charset) for charset, data in chunks)


def _text(msg: Message, name: str) -> str:
    return _clean(_decode_words(_header(msg, name)))


def _addresses(values: Iterable[str]) -> list[tuple[str, str]]:
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


def _message_ids(value: str) -> list[str]:
    """Message ids in angle brackets, also from clients that forgot the brackets."""
    ids = ["".join(found.split()) for found in re.findall(r"<([^<>]+)>", value)]
    ids = ids or [token.strip("<>,;") for token in value.split() if "@" in token]
    return list(dict.fromkeys(f"<{i}>" for i in ids if i))


def _param(part: Message, name: str, header: str = "content-type") -> str | None:
    """A header parameter, parsed with compat32 and decoded (RFC 2231 or RFC 2047)."""
    view = Message()
    view[header] = _header(part, header)
    value = view.get_param(name, header=header)
    if isinstance(value, tuple):
        charset, _language, encoded = value
        return _decode(_to_bytes(encoded, "latin-1"), charset)
    return None if value is None else _decode_words(value)


# --- HTML ----------------------------------------------------------------------------------------


class _HtmlText(HTMLParser):
    """Text of an HTML body: blocks and <br> become line breaks, blockquotes become "> " lines."""

    BREAKS = re.compile(r"br|blockquote|p|div|li|[dou]l|d[dt]|tr|table|pre|hr|h\d|section|article")
    SKIPPED = ("script", "style", "title")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self.skipping = self.quoting = self.preformatted = 0

    def _break(self, always: bool = False) -> None:
        line_start = "\n" + "> " * min(self.quoting, 9)
        if always or not self.pieces or self.pieces[-1] != line_start:
            self.pieces.append(line_start)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.skipping += tag in self.SKIPPED
        self.quoting += tag == "blockquote"
        self.preformatted += tag == "pre"
        if self.BREAKS.fullmatch(tag):
            self._break(always=tag == "br")
        if tag == "li":
            self.pieces.append("- ")

    def handle_endtag(self, tag: str) -> None:
        self.skipping = max(0, self.skipping - (tag in self.SKIPPED))
        self.quoting = max(0, self.quoting - (tag == "blockquote"))
        self.preformatted = max(0, self.preformatted - (tag == "pre"))
        if tag != "br" and self.BREAKS.fullmatch(tag):
            self._break()
        elif tag in ("td", "th"):
            self.pieces.append(" ")

    def handle_data(self, data: str) -> None:
        at_line_start = self.pieces and self.pieces[-1].startswith("\n")
        if not self.skipping and not (at_line_start and not data.strip(" \t\r\n\f")):
            text = data if self.preformatted else re.sub(r"\s+", " ", data)
            self.pieces.append(text.replace("\n", "\n" + "> " * min(self.quoting, 9)))


def _html_to_text(html: str) -> str:
    """Plain text of an HTML body (a crude tag strip if the parser gives up)."""
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
        text = "".join(parser.pieces)
    except Exception:  # html.parser still has corner cases that raise on broken markup
        text = re.sub(r"<[^<>]*>", " ", re.sub(r"(?i)<br\s*/?>|</(?:p|div|li)>", "\n", html))
    lines: list[str] = []
    for line in text.replace("\xa0", " ").split("\n"):
        content = (line := line.strip()).lstrip("> ")
        line = ("> " * line[: len(line) - len(content)].count(">") + content).rstrip()
        if line.strip("> ") or (lines and lines[-1].strip("> ")):  # at most one blank line
            lines.append(line)
    while lines and not lines[-1].strip("> "):
        lines.pop()
    return "\n".join(lines)


# --- the MIME tree ------------------------------------------------------------------------------

_EXTENSIONS = {"image/webp": ".webp", "image/heic": ".heic", "text/calendar": ".ics"}
_MIME_TYPES = mimetypes.MimeTypes()  # the built-in table only, not the host's mime.types


@dataclass
class _Found:
    own: list[str] = field(default_factory=list)
    forwarded: list[str] = field(default_factory=list)
    attachments: list[InboundAttachment] = field(default_factory=list)
    unnamed: int = 0


def _payload(part: Message) -> bytes:
    """The raw bytes of a leaf part, base64 decoded leniently (the stdlib gives up on some)."""
    if part.is_multipart():
        return b""
    if _header(part, "content-transfer-encoding").strip().lower() == "base64":
        with contextlib.suppress(Exception):  # 8-bit junk makes get_payload() decode by charset
            return _b64(part.get_payload().encode("ascii", "ignore"))
    return part.get_payload(decode=True) or b""


def _part_text(part: Message, content_type: str) -> str:
    text = _decode(_payload(part), _param(part, "charset"))
    text = _BODY_CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return _html_to_text(text) if content_type == "text/html" else text


def _filename(part: Message) -> str:
    """The declared file name without directories, control characters or a bare "." / ".."."""
    name = _param(part, "filename", "content-disposition") or _param(part, "name") or ""
    name = _CONTROL.sub("", re.split(r"[/\\]", name)[-1]).strip()
    return "" if name in (".", "..") else name


def _generated_name(content_type: str, number: int) -> str:
    kind = content_type.split("/")[0]
    prefix = kind if kind in ("image", "audio", "video") else "attachment"
    extension = _EXTENSIONS.get(content_type) or _MIME_TYPES.guess_extension(content_type)
    return f"{prefix}{number}{extension or '.bin'}"


def _inner_message(part: Message) -> Message | None:
    if not part.is_multipart():  # an encoded message/rfc822, which the parser leaves as text
        return email.message_from_bytes(_payload(part), policy=part.policy)
    payload = part.get_payload()
    return payload[0] if payload and isinstance(payload[0], Message) else None


def _forward_heading(inner: Message) -> str:
    fields = [(label, _text(inner, label.lower())) for label in ("From", "Date", "Subject", "To")]
    return "\n".join([FORWARD_HEADING] + [f"{label}: {value}" for label, value in fields if value])


def _preferred(parts: list[Message]) -> Message | None:
    """The alternative to read: non-empty text/plain, else the richest (last) HTML or multipart."""
    for part in parts:
        if part.get_content_type() == "text/plain" and _payload(part).strip():
            return part
    rich = [p for p in parts if p.get_content_type() == "text/html" or p.is_multipart()]
    return (rich or parts or [None])[-1]


def _collect(part: Message, found: _Found, depth: int = 0, text=True, forwarded=False) -> None:
    """Gather the text and attachments of a part; only attachments from unread alternatives."""
    content_type = part.get_content_type()
    if depth > MAX_DEPTH or SIGNATURE_TYPE.fullmatch(content_type):
        return
    if content_type == "message/rfc822":
        if (inner := _inner_message(part)) is not None:
            found.forwarded.extend([_forward_heading(inner)] if text else [])
            _collect(inner, found, depth + 1, text, forwarded=True)
    elif part.is_multipart():
        parts = [sub for sub in part.get_payload() if isinstance(sub, Message)]
        chosen = _preferred(parts) if content_type == "multipart/alternative" else None
        for sub in parts:
            _collect(sub, found, depth + 1, text and chosen in (None, sub), forwarded)
    elif content_type in ("text/plain", "text/html") and not (
        _filename(part) or _header(part, "content-disposition").lower().startswith("attachment")
    ):
        if text:
            (found.forwarded if forwarded else found.own).append(_part_text(part, content_type))
    elif data := _payload(part):
        if not (filename := _filename(part)):
            found.unnamed += 1
            filename = _generated_name(content_type, found.unnamed)
        found.attachments.append(InboundAttachment(filename, content_type, data))


# --- replies, signatures and machines -----------------------------------------------------------

_SEPARATOR = re.compile(
    r"-{2,}\s*(?:original message|forwarded message|исходное сообщение|пересылаемое сообщение"
    r"|пересланное сообщение|начало переадресованного сообщения)\s*-{2,}"
    r"|(?:begin forwarded message|начало переадресованного сообщения)\s*:",
    re.IGNORECASE,
)
_MOBILE = re.compile(
    r"(?:sent from (?:my |yandex|mail\.ru|outlook|gmail|mail for windows|the mail app|samsung)"
    r"|get outlook for |отправлено (?:с|со|из) (?:моего |мобильн\w* )?(?:iphone|ipad|android"
    r"|устройства|смартфона|телефона|мобильн|приложения|почты|яндекс|mail\.ru|samsung|huawei))",
    re.IGNORECASE,
)
_OUTLOOK_FROM = re.compile(r"\*?(?:from|от)\s*:", re.IGNORECASE)
_OUTLOOK_SENT = re.compile(r"\*?(?:sent|date|отправлено|дата)\s*:", re.IGNORECASE)
_WROTE = re.compile(r"(?:wrote|пишет|написал|написала|написал\s*\(а\)|писал)\s*:$", re.IGNORECASE)
_ADDRESS_COLON = re.compile(r"(?:<[^<>\s]+@[^<>\s]+>|\[mailto:[^\]]+\])\s*:$")
_DATE = re.compile(r"\d{1,2}:\d{2}|\b(?:19|20)\d{2}\b")
_RULE = re.compile(r"\s*(?:_{8,}|-{8,})?\s*")


def _is_attribution(line: str) -> bool:
    """'On <date>, <name> wrote:', '<date>, <name> пишет:', '<date>, <name> <address>:'."""
    if len(line) > 300:
        return False
    if _WROTE.search(line):
        return line.lower().startswith("on ") or bool(_DATE.search(line))
    return bool(_ADDRESS_COLON.search(line) and _DATE.search(line))


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _marker_at(lines: list[str], i: int, quoted_tail: int) -> bool:
    """Whether the quoted history, a forward or a signature starts at line `i`."""
    line, rest = lines[i].strip(), [following.strip() for following in lines[i + 1 : i + 4]]
    after = rest[0] if rest else ""
    if _is_quoted(line):  # a run of quoted lines, or quoted lines to the end
        return i >= quoted_tail or _is_quoted(after)
    if lines[i].rstrip() == "--" or _SEPARATOR.match(line) or _is_attribution(line):
        return True
    if len(line) <= 80 and _MOBILE.match(line):
        return True
    if _OUTLOOK_FROM.match(line) and (
        any(_OUTLOOK_SENT.match(following) for following in rest)
        or re.search(r"\b(?:sent|отправлено)\s*:", line, re.IGNORECASE)
    ):
        return True
    if re.fullmatch(r"_{8,}", line) and _OUTLOOK_FROM.match(after):
        return True
    wrapped = after and not _is_attribution(after) and not line.endswith((".", "!", "?"))
    starts = line.lower().startswith("on ") or _DATE.search(line)
    return bool(wrapped and starts and _is_attribution(f"{line} {after}"))


def trim_reply(text: str) -> str:
    """The new text of a reply: what is above the quoted history, a forward or the signature."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    quoted_tail = len(lines)  # where the trailing block of quoted and blank lines begins
    while quoted_tail and (
        _is_quoted(lines[quoted_tail - 1]) or not lines[quoted_tail - 1].strip()
    ):
        quoted_tail -= 1
    cut = next((i for i in range(len(lines)) if _marker_at(lines, i, quoted_tail)), len(lines))
    while cut and _RULE.fullmatch(lines[cut - 1]):  # blank lines and rules above the marker
        cut -= 1
    return "\n".join(lines[:cut]).rstrip() if cut else text.rstrip()


_AUTOMATIC_SUBJECT = re.compile(
    r"\s*(?:automatic reply|auto(?:matic)?[- ]?reply|autoreply|auto-response|out of (?:the )?office"
    r"|undeliverable|undelivered mail|delivery status notification|mail delivery (?:failed|failure)"
    r"|returned mail|автоматический ответ|автоответ|недоставленное сообщение|не удалось доставить)",
    re.IGNORECASE,
)
_DAEMON = re.compile(r"(?:mailer-daemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply)[+@]")


def is_automatic(msg: Message) -> str | None:
    """Why a machine sent `msg` (auto-reply, bulk mail, bounce; RFC 3834), None for a person."""

    def value(name: str) -> str:
        return _text(msg, name).lower()

    if (auto := value("auto-submitted")) and auto.split(";")[0].strip() != "no":
        return f"auto-submitted: {auto}"
    if msg.get_content_type() == "multipart/report":
        return "content-type: multipart/report"
    if (precedence := value("precedence")) in ("bulk", "junk", "list", "auto_reply"):
        if value("list-id") or value("list-unsubscribe"):
            return f"list: precedence {precedence}"
        return f"precedence: {precedence}"
    for name in ("x-autoreply", "x-autorespond"):
        if value(name) not in ("", "no", "false", "0"):
            return f"{name}: {value(name)}"
    suppress = value("x-auto-response-suppress")
    if {"all", "oof", "autoreply"} & set(re.split(r"[\s,;]+", suppress)):
        return f"x-auto-response-suppress: {suppress}"
    for _name, address in _addresses(_raw_values(msg, "from"))[:1]:
        if _DAEMON.match(address):
            return f"from: {address}"
    if _AUTOMATIC_SUBJECT.match(subject := _text(msg, "subject")):
        return f"subject: {subject.lower()}"
    return None


# --- the whole message --------------------------------------------------------------------------


def _join(texts: Iterable[str]) -> str:
    return "\n\n".join(re.sub(r"^(?:[ \t]*\n)+", "", t).rstrip() for t in texts if t.strip())


def _read(msg: Message) -> InboundMessage:
    senders = _addresses(_raw_values(msg, "from"))
    if not senders:
        raise InboundError("no_sender", "the message has no sender address (From)")
    found = _Found()
    _collect(msg, found)
    own, forwarded = _join(found.own), _join(found.forwarded)
    if not (full_body := _join([own, forwarded])) and not found.attachments:
        raise InboundError("no_text", "the message has neither text nor attachments")
    message_ids = _message_ids(_header(msg, "message-id"))
    recipients = [a for name in RECIPIENT_HEADERS for _, a in _addresses(_raw_values(msg, name))]
    return InboundMessage(
        sender=senders[0][1],
        sender_name=senders[0][0],
        subject=_text(msg, "subject"),
        body=_join([trim_reply(own), forwarded]),
        full_body=full_body,
        message_id=message_ids[0] if message_ids else None,
        in_reply_to=_message_ids(" ".join(_raw_values(msg, "in-reply-to"))),
        references=_message_ids(" ".join(_raw_values(msg, "references"))),
        recipients=list(dict.fromkeys(recipients)),
        attachments=found.attachments,
        automatic=is_automatic(msg),
        authentication_results=_raw_values(msg, "authentication-results"),
    )


def parse_message(raw: bytes, max_bytes: int = MAX_BYTES) -> InboundMessage:
    """Turn raw RFC 822 bytes into an InboundMessage; a message that cannot raises InboundError."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise InboundError("malformed", "a message must be bytes")
    raw = bytes(raw)
    if not raw.strip():
        raise InboundError("empty", "the message is empty")
    if len(raw) > max_bytes:
        raise InboundError("too_large", f"the message has {len(raw)} bytes, over {max_bytes}")
    failure: Exception | None = None
    for policy in (email.policy.default, email.policy.compat32):
        try:
            return _read(email.message_from_bytes(raw, policy=policy))
        except InboundError:
            raise
        except Exception as exc:  # a parser bug on a broken header: try the lenient compat32
            failure = exc
    raise InboundError("malformed", f"the message cannot be read ({failure!r})") from failure
