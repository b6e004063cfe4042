import mailbox
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.accounts.services import find_user
from portal.config import PROJECT_ROOT
from portal.extensions import db
from portal.mail.inbound import InboundError, parse_message
from portal.mail.intake import receive
from portal.outbox.models import OutboxMessage
from portal.tickets.models import Message, Ticket
from portal.tickets.services import NewTicket, file_ticket
from tests.factories import make_org, make_user

TEST_MAIL = PROJECT_ROOT / "tests" / "data" / "mail"


def letter(sender, subject, body, to="support@portal.local", **headers) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return bytes(message)


@pytest.fixture
def people(app):
    with app.app_context():
        org = make_org("partner")
        return {
            "customer": make_user(org=org, email="ivan@example.com"),
            "colleague": make_user(org=org, email="olga@example.com"),
            "stranger": make_user(email="eve@example.net"),
        }


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_letter_from_a_customer_becomes_an_email_ticket(app, people):
    with app.app_context():
        result = receive(
            letter(
                "Иван <Ivan@Example.com>", "Не работает импорт", "При импорте CSV все поля пустые."
            )
        )
        assert result.action == "created"
        ticket = db.session.scalar(select(Ticket))
        assert (ticket.channel, ticket.category, ticket.tier) == ("email", "general", "partner")
        assert ticket.title == "Не работает импорт" and ticket.response_due is not None
        assert db.session.scalar(select(OutboxMessage.kind)) == "ticket_created"


def test_a_reply_is_threaded_by_the_signed_token_and_quotes_are_trimmed(app, people):
    with app.app_context():
        ticket = file_ticket(
            NewTicket(
                author=db.session.get(User, people["customer"].id),
                title="Импорт",
                description="Поля пустые",
                category="general",
            )
        )
        outgoing = db.session.scalar(select(OutboxMessage))
        body = (
            "Прикладываю подробности.\n\nСр, 25 нояб. 2026 г. в 10:00, Поддержка пишет:\n> старое"
        )
        result = receive(
            letter("ivan@example.com", "Re: что-то другое", body, to=outgoing.reply_to)
        )
        assert (result.action, result.ticket) == ("replied", ticket.number)
        text = db.session.scalars(select(Message.body).order_by(Message.id.desc())).first()
        assert text == "Прикладываю подробности."
        result = receive(
            letter(
                "olga@example.com", "ответ", "Коллега дополняет", In_Reply_To=outgoing.message_id
            )
        )
        assert (result.action, result.ticket) == ("replied", ticket.number)


def test_a_subject_tag_alone_counts_only_for_the_author(app, people, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_MAIL_AUTHSERV_ID", "mx.portal.local")
    with app.app_context():
        ticket = file_ticket(
            NewTicket(
                author=db.session.get(User, people["customer"].id),
                title="Импорт",
                description="Поля пустые",
                category="general",
            )
        )
        tag = f"Re: [#{ticket.number}] Импорт"
        verified = {"Authentication_Results": "mx.portal.local; dmarc=pass"}
        reply = letter("ivan@example.com", tag, "Дополнение автора", **verified)
        assert receive(reply).action == "replied"
        for other in ("olga@example.com", "eve@example.net"):
            result = receive(letter(other, tag, "Чужое дополнение", **verified))
            assert (result.action, result.reason) == ("rejected", "not_allowed")
        assert db.session.scalar(select(Message).where(Message.body == "Чужое дополнение")) is None


def test_a_valid_token_does_not_let_a_stranger_in(app, people):
    with app.app_context():
        file_ticket(
            NewTicket(
                author=db.session.get(User, people["customer"].id),
                title="Импорт",
                description="x",
                category="general",
            )
        )
        outgoing = db.session.scalar(select(OutboxMessage))
        result = receive(letter("eve@example.net", "Re", "Я тоже!", to=outgoing.reply_to))
        assert (result.action, result.reason) == ("rejected", "not_allowed")


def test_unknown_senders_and_automatic_mail_create_nothing(app, people):
    with app.app_context():
        assert receive(letter("nobody@example.org", "Помогите", "Текст")).reason == "unknown_sender"
        auto = letter(
            "ivan@example.com",
            "Автоматический ответ: Импорт",
            "Я в отпуске",
            Auto_Submitted="auto-replied",
        )
        assert receive(auto).action == "ignored"
        bulk = letter("ivan@example.com", "Новости", "Рассылка", Precedence="bulk")
        assert receive(bulk).action == "ignored"
        assert count(Ticket) == 0 and count(OutboxMessage) == 0


def test_out_of_scope_mail_is_answered_but_not_filed(app, people):
    with app.app_context():
        result = receive(
            letter(
                "ivan@example.com",
                "Установка",
                "Установите, пожалуйста, Битрикс24 на наш VPS сервер.",
            )
        )
        assert (result.action, result.reason) == ("rejected", "out_of_scope")
        assert count(Ticket) == 0
        assert db.session.scalar(select(OutboxMessage.kind)) == "refused"


def test_the_cli_reads_stdin_and_a_maildir(app, people, portal_cli, tmp_path):
    result = portal_cli_input(portal_cli, letter("ivan@example.com", "Вопрос", "Текст вопроса"))
    assert result.exit_code == 0 and result.output.startswith("created")
    result = portal_cli_input(portal_cli, b"\x00\x01 not a mail")
    assert result.exit_code == 1 and "rejected" in result.output
    box = mailbox.Maildir(tmp_path / "inbox", create=True)
    box.add(letter("ivan@example.com", "Второй", "Ещё вопрос"))
    box.add(letter("mailer-daemon@example.com", "Undeliverable: x", "bounce"))
    result = portal_cli("mail-in", "--maildir", str(tmp_path / "inbox"))
    assert result.exit_code == 0
    assert sorted(line.split()[0] for line in result.output.splitlines()) == ["created", "ignored"]
    assert portal_cli("mail-in", "--maildir", str(tmp_path / "inbox")).output == ""
    assert portal_cli("mail-in", "--imap").exit_code != 0  # not configured: a clear message


def portal_cli_input(portal_cli, raw: bytes):
    return portal_cli.invoke_with_input(raw)


def test_every_message_of_the_corpus_is_handled_without_a_traceback(app, people):
    corpus = sorted((TEST_MAIL).glob("*.eml"))
    assert len(corpus) >= 25
    with app.app_context():
        # The corpus's senders become known customers, so letters turn into tickets.
        for raw in (p.read_bytes() for p in corpus):
            try:
                sender = parse_message(raw).sender
            except InboundError:
                continue
            if sender and find_user(sender) is None:
                make_user(email=sender)
        created = 0
        for path in corpus:
            result = receive(path.read_bytes())
            assert result.action in ("created", "replied", "ignored", "rejected"), path.name
            created += result.action == "created"
        assert count(Ticket) == created
        for ticket in db.session.scalars(select(Ticket)):
            assert ticket.messages and ticket.messages[0].body.strip()
