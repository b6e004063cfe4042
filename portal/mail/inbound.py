"""Incoming e-mail as plain data: who wrote, what is new in the text, the thread, the attachments.

Pure standard library. This module walks the MIME tree and puts the message together; header
values are read raw and decoded by `decoding` (RFC 2047 words, undeclared 8-bit bytes, unknown
charsets), because the default policy turns such bytes into U+FFFD and raises on some broken
headers; header parameters are read with the lenient compat32 parser. If the default policy
fails on a message at all, the whole message is read again with compat32. HTML bodies become
text in `html_text`; quotes, signatures and machine-written mail are recognised in `replies`.
"""

import contextlib
import email
import email.policy
import mimetypes
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import Message

from portal.mail.decoding import (
    BODY_CONTROL,
    CONTROL_CHARS,
    b64_payload,
    decode_bytes,
    decoded_header,
    header_addresses,
    header_message_ids,
    header_param,
    raw_header,
    raw_header_values,
)
from portal.mail.html_text import html_to_text
from portal.mail.replies import is_automatic, trim_reply

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
    if raw_header(part, "content-transfer-encoding").strip().lower() == "base64":
        with contextlib.suppress(Exception):  # 8-bit junk makes get_payload() decode by charset
            return b64_payload(part.get_payload().encode("ascii", "ignore"))
    return part.get_payload(decode=True) or b""


def _part_text(part: Message, content_type: str) -> str:
    text = decode_bytes(_payload(part), header_param(part, "charset"))
    text = BODY_CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return html_to_text(text) if content_type == "text/html" else text


def _filename(part: Message) -> str:
    """The declared file name without directories, control characters or a bare "." / ".."."""
    name = header_param(part, "filename", "content-disposition") or header_param(part, "name") or ""
    name = CONTROL_CHARS.sub("", re.split(r"[/\\]", name)[-1]).strip()
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
    fields = [
        (label, decoded_header(inner, label.lower())) for label in ("From", "Date", "Subject", "To")
    ]
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
        _filename(part) or raw_header(part, "content-disposition").lower().startswith("attachment")
    ):
        if text:
            (found.forwarded if forwarded else found.own).append(_part_text(part, content_type))
    elif data := _payload(part):
        if not (filename := _filename(part)):
            found.unnamed += 1
            filename = _generated_name(content_type, found.unnamed)
        found.attachments.append(InboundAttachment(filename, content_type, data))


# --- the whole message --------------------------------------------------------------------------


def _join(texts: Iterable[str]) -> str:
    return "\n\n".join(re.sub(r"^(?:[ \t]*\n)+", "", t).rstrip() for t in texts if t.strip())


def _read(msg: Message) -> InboundMessage:
    senders = header_addresses(raw_header_values(msg, "from"))
    if not senders:
        raise InboundError("no_sender", "the message has no sender address (From)")
    found = _Found()
    _collect(msg, found)
    own, forwarded = _join(found.own), _join(found.forwarded)
    if not (full_body := _join([own, forwarded])) and not found.attachments:
        raise InboundError("no_text", "the message has neither text nor attachments")
    message_ids = header_message_ids(raw_header(msg, "message-id"))
    recipients = [
        a for name in RECIPIENT_HEADERS for _, a in header_addresses(raw_header_values(msg, name))
    ]
    return InboundMessage(
        sender=senders[0][1],
        sender_name=senders[0][0],
        subject=decoded_header(msg, "subject"),
        body=_join([trim_reply(own), forwarded]),
        full_body=full_body,
        message_id=message_ids[0] if message_ids else None,
        in_reply_to=header_message_ids(" ".join(raw_header_values(msg, "in-reply-to"))),
        references=header_message_ids(" ".join(raw_header_values(msg, "references"))),
        recipients=list(dict.fromkeys(recipients)),
        attachments=found.attachments,
        automatic=is_automatic(msg),
        authentication_results=raw_header_values(msg, "authentication-results"),
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
