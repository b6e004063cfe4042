"""What is new in a reply (quotes, attributions and signatures trimmed), and whether a
letter was written by a machine. Pure standard library."""

import re
from email.message import Message

from portal.mail.decoding import decoded_header, header_addresses, raw_header_values

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
        return decoded_header(msg, name).lower()

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
    for _name, address in header_addresses(raw_header_values(msg, "from"))[:1]:
        if _DAEMON.match(address):
            return f"from: {address}"
    if _AUTOMATIC_SUBJECT.match(subject := decoded_header(msg, "subject")):
        return f"subject: {subject.lower()}"
    return None
