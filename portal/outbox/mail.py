"""E-mail through the outbox: letters written in the transaction of the change, delivered
by `portal worker` (SMTP, or .eml files in development) through the shared retry queue."""

import datetime as dt
import logging
import smtplib
import ssl
import time
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol

from flask import current_app, render_template
from sqlalchemy import column, select, table

from portal.clock import utcnow
from portal.extensions import db
from portal.mail.headers import UnsafeLetter, check_letter, header_text, mailbox
from portal.mail.images import without_remote_images
from portal.outbox import queue
from portal.outbox.models import FAILED, SENT, OutboxMessage

log = logging.getLogger("portal.mail.out")


def absolute_url(endpoint: str, **values) -> str:
    """A link for an e-mail: the configured public address plus the route's path."""
    path = current_app.url_map.bind("portal").build(endpoint, values)
    return current_app.config["PORTAL_BASE_URL"].rstrip("/") + path


def mail_domain() -> str:
    return current_app.config["PORTAL_MAIL_FROM"].rsplit("@", 1)[-1].strip("> ") or "portal.local"


def queue_mail(
    recipient: str,
    template: str,
    context: dict,
    *,
    kind: str,
    ticket=None,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    reply_to: str | None = None,
) -> OutboxMessage:
    """Add a notification to the outbox in the current transaction (the caller commits).

    The letter is built and checked at once: one that would not go out exactly as meant is
    kept as failed, with the reason, and never sent.
    """
    subject = render_template(f"mail/{template}.subject.txt", **context)
    body_html = render_template(f"mail/{template}.html", **context)
    message = OutboxMessage(
        recipient=recipient,
        subject=header_text(subject),
        body_text=render_template(f"mail/{template}.txt", **context),
        body_html=without_remote_images(body_html, current_app.config["PORTAL_BASE_URL"]),
        message_id=message_id or make_msgid(idstring=uuid.uuid4().hex[:12], domain=mail_domain()),
        in_reply_to=in_reply_to,
        references=references,
        reply_to=reply_to,
        ticket_id=ticket.id if ticket is not None else None,
        kind=kind,
    )
    try:
        build_email(message, current_app.config["PORTAL_MAIL_FROM"], _name_of(recipient))
    except UnsafeLetter as exc:
        _refuse(message, exc)
    db.session.add(message)
    return message


# The account names recipients are greeted by, read as a plain table: the outbox sits
# below the accounts package and does not import it.
_users = table("users", column("email"), column("name"))


def _name_of(address: str) -> str:
    return db.session.scalar(select(_users.c.name).where(_users.c.email == address.lower())) or ""


def _refuse(message: OutboxMessage, exc: UnsafeLetter) -> None:
    log.error("letter %s to %s refused: %s", message.message_id, message.recipient, exc)
    message.status, message.last_error = FAILED, f"refused: {exc}"[:2000]


def build_email(message: OutboxMessage, sender: str, recipient_name: str = "") -> EmailMessage:
    """The outbox row as a multipart e-mail, checked to serialise to exactly these headers.

    Every value that can hold user text (the subject, display names) goes through
    `header_text`; raises UnsafeLetter if the letter would still change on the wire.
    """
    email = EmailMessage()
    email["From"] = mailbox(sender)
    email["To"] = mailbox(message.recipient, recipient_name)
    email["Subject"] = header_text(message.subject)
    email["Message-ID"] = message.message_id
    email["Date"] = format_datetime(message.created_at or utcnow())
    if message.in_reply_to:
        email["In-Reply-To"] = message.in_reply_to
    if message.references:
        email["References"] = message.references
    if message.reply_to:
        email["Reply-To"] = mailbox(message.reply_to)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    check_letter(email)
    return email


class Transport(Protocol):
    def send(self, email: EmailMessage, within: float | None = None) -> None: ...


class FileTransport:
    """Development transport: each message becomes an .eml file."""

    def __init__(self, folder: Path):
        self.folder = folder

    def send(self, email: EmailMessage, within: float | None = None) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        name = f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        staging = self.folder / f".{name}"
        staging.write_bytes(bytes(email))
        staging.rename(self.folder / name)


class _SmtpWithDeadline(smtplib.SMTP):
    """smtplib's client whose whole conversation, not each step, ends by a deadline."""

    deadline = float("inf")

    def _arm(self) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.close()
            raise TimeoutError("the SMTP conversation outlasted its time")
        if self.sock is not None:
            self.sock.settimeout(min(left, self.timeout))

    def send(self, s):
        self._arm()
        super().send(s)

    def getreply(self):
        self._arm()
        return super().getreply()


class SmtpTransport:
    """Delivery through an SMTP server, with STARTTLS and login when configured."""

    def __init__(self, host, port, user=None, password=None, starttls=False, timeout=30):
        self.host, self.port, self.user, self.password = host, port, user, password
        self.starttls, self.timeout = starttls, timeout

    def send(self, email: EmailMessage, within: float | None = None) -> None:
        """Send one letter; with `within`, the conversation is cut off after that many seconds.

        Once the server has taken the letter, a failed goodbye (QUIT) is not an error: the
        letter must not be retried and sent twice for it.
        """
        if within is not None and within <= 0:
            raise TimeoutError("no time left to send")
        smtp = _SmtpWithDeadline(
            timeout=self.timeout if within is None else min(self.timeout, within)
        )
        if within is not None:
            smtp.deadline = time.monotonic() + within
        try:
            smtp.connect(self.host, self.port)
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(email)
        except BaseException:
            smtp.close()
            raise
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def transport_from_config(config) -> Transport:
    """The transport the configuration asks for."""
    if config["PORTAL_MAIL_TRANSPORT"] == "smtp":
        return SmtpTransport(
            config["PORTAL_SMTP_HOST"],
            config["PORTAL_SMTP_PORT"],
            config["PORTAL_SMTP_USER"],
            config["PORTAL_SMTP_PASSWORD"],
            config["PORTAL_SMTP_STARTTLS"],
        )
    return FileTransport(config["PORTAL_INSTANCE_DIR"] / "outbox")


def _permanent(exc: Exception) -> bool:
    return isinstance(exc, smtplib.SMTPResponseException) and 500 <= exc.smtp_code < 600


def deliver_pending(
    transport: Transport, now: dt.datetime | None = None, limit: int = 100, stop=None
) -> int:
    """Send what is due; failures are retried with backoff, permanent ones marked failed."""
    sender = current_app.config["PORTAL_MAIL_FROM"]
    lease = dt.timedelta(seconds=current_app.config["PORTAL_OUTBOX_LEASE_SECONDS"])

    def attempt(message_id: int, at: dt.datetime) -> bool:
        claimed = time.monotonic()
        message = db.session.get(OutboxMessage, message_id, populate_existing=True)
        try:
            letter = build_email(message, sender, _name_of(message.recipient))
        except UnsafeLetter as exc:
            _refuse(message, exc)
            db.session.commit()
            return False
        db.session.commit()  # no transaction stays open while the server answers
        try:
            transport.send(letter, within=queue.send_budget(lease) - (time.monotonic() - claimed))
        except (OSError, smtplib.SMTPException) as exc:
            outcome = FAILED if _permanent(exc) else queue.RETRY
            queue.settle(message, outcome, f"{type(exc).__name__}: {exc}", at, SENT)
        else:
            queue.settle(message, queue.DONE, None, at, SENT)
            message.sent_at = at
        db.session.commit()
        return message.status == SENT

    return queue.deliver_due(OutboxMessage, attempt, now, limit, lease, stop)
