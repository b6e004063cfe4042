"""Outgoing headers: user text cannot add headers or a body on this Python (3.11.7, before the
fix of CVE-2024-6923), and a letter that would change on the wire is refused."""

import base64
import datetime as dt
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from portal.mail.headers import UnsafeLetter, check_letter, header_text, mailbox
from portal.outbox.mail import build_email
from portal.outbox.models import OutboxMessage

PAYLOAD = (
    "Printer issue =?utf-8?q?=0D=0AReply-To:_attacker@evil.example=0D=0ABcc:_victim@evil.example"
    "=0D=0A=0D=0APlease_re-enter_your_password_at_https://evil.example/login?="
)
BASE64 = "=?utf-8?b?" + base64.b64encode(b"\r\nBcc: x@evil.example").decode() + "?="
FOLDED = "Printer =?utf-8?q?=0D=0A?=\r\n =?utf-8?q?Bcc:_x@evil.example?=\r\n\tend"
RAW_CRLF = "Hi\r\nBcc: victim@evil.example\r\n\r\nbody"
VARIANTS = [PAYLOAD, f"Printer {BASE64}", FOLDED, RAW_CRLF, f"Принтер {PAYLOAD}"]
OUR_REPLY_TO = "support+2026-000001.0123456789abcdef@portal.local"


def notification(title: str) -> OutboxMessage:
    return OutboxMessage(
        recipient="ivan@example.com",
        subject=f"[#2026-000001] Request received: {title}",
        body_text=f"We have received your request 2026-000001 “{title}”.\n",
        body_html=f"<p>We have received your request 2026-000001 “{title}”.</p>",
        message_id="<t.2026-000001.0123456789abcdef.abc@portal.local>",
        in_reply_to=None,
        references=None,
        reply_to=OUR_REPLY_TO,
        created_at=dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC),
    )


def wire(letter: EmailMessage) -> EmailMessage:
    raw = letter.as_bytes(policy=policy.SMTP)
    return BytesParser(policy=policy.default).parsebytes(raw)


def assert_only_ours(received: EmailMessage, title: str) -> None:
    assert [k.lower() for k in received] == [
        "from",
        "to",
        "subject",
        "message-id",
        "date",
        "reply-to",
        "auto-submitted",
        "mime-version",
        "content-type",
    ]
    assert received.get_all("Bcc") is None and received.get_all("Cc") is None
    assert [a.addr_spec for a in received["Reply-To"].addresses] == [OUR_REPLY_TO]
    assert [a.addr_spec for a in received["To"].addresses] == ["ivan@example.com"]
    assert "\n" not in str(received["Subject"]) and "\r" not in str(received["Subject"])
    assert "=?" not in str(received["Subject"])
    plain, html = (received.get_body(("plain",)), received.get_body(("html",)))
    assert received.get_content_type() == "multipart/alternative"
    assert (
        plain.get_content().startswith("We have received your request")
        and title in plain.get_content()
    )
    assert html.get_content().startswith("<p>We have received your request")


@pytest.mark.parametrize("title", VARIANTS)
def test_a_title_with_encoded_words_or_line_breaks_adds_no_header(title):
    received = wire(build_email(notification(title), "Support portal <support@portal.local>"))
    assert_only_ours(received, title)


@pytest.mark.parametrize("name", VARIANTS)
def test_a_display_name_carrying_the_payload_adds_no_header(name):
    letter = build_email(notification("Printer"), "Support portal <support@portal.local>", name)
    received = wire(letter)
    assert_only_ours(received, "Printer")
    assert "\n" not in received["To"].addresses[0].display_name


def test_the_payload_does_inject_with_this_pythons_email_package_alone():
    # The reason the check exists: the same letter built without header_text.
    letter = EmailMessage()
    letter["From"] = "support@portal.local"
    letter["Subject"] = PAYLOAD
    letter.set_content("body")
    if wire(letter).get_all("Bcc") is not None:  # Python before the CVE-2024-6923 fix
        with pytest.raises(UnsafeLetter, match="bcc"):
            check_letter(letter)
    else:
        check_letter(letter)


def test_header_text_is_one_line_without_encoded_words_and_stable():
    cleaned = header_text("a\x00b\x01\x1b\x7f\x85c\u2028d\u202ee =?utf-8?q?x?=\r\n f")
    assert cleaned == "a b c d e =\u2060?utf-8?q?x?= f"
    assert header_text(cleaned) == cleaned
    assert "=?" not in header_text("=" * 5 + "?" * 5 + "=?=?")
    assert len(header_text("=?" * 400)) == 300


def test_addresses_with_line_breaks_are_refused():
    assert mailbox("Support <support@portal.local>").addr_spec == "support@portal.local"
    for bad in ("victim@example.com\r\nBcc: x@evil.example", "no-at-sign", "a@b@c", ""):
        with pytest.raises(UnsafeLetter):
            mailbox(bad)


def test_a_letter_that_changes_on_the_wire_is_refused():
    letter = build_email(notification("Printer"), "support@portal.local")
    assert check_letter(letter).startswith(b"From: support@portal.local\r\n")
    broken = EmailMessage()
    broken["Subject"] = "x"
    broken.set_content("body")
    broken.replace_header("Subject", PAYLOAD)  # bypasses header_text, as a careless caller might
    if wire(broken).get_all("Reply-To") is not None:
        with pytest.raises(UnsafeLetter):
            check_letter(broken)
