"""E-mail in: a message from a known customer becomes a ticket (channel email) or a reply
on the ticket it answers. Threading trusts signed tokens; a bare subject tag only when the
sender is the ticket's author and our own MTA vouches for the From address in its
Authentication-Results (PORTAL_MAIL_AUTHSERV_ID). Auto-replies and bulk mail never create
anything."""

import logging
import re
from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from portal.accounts.models import User
from portal.accounts.services import find_user
from portal.extensions import db
from portal.mail.authresults import sender_verified
from portal.mail.inbound import InboundError, InboundMessage, parse_message
from portal.mail.tokens import find_ticket_number, subject_number
from portal.outbox.mail import queue_mail
from portal.tickets.attachments import UploadError, store
from portal.tickets.conversation import can_reopen, post_reply, reopen
from portal.tickets.filing import OutOfScope, Request, file_request
from portal.tickets.models import DONE_STATUSES, Ticket
from portal.tickets.services import TicketError

log = logging.getLogger("portal.mail.in")
REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|ответ|пересл|aw|wg)\s*(\[\d+\])?\s*:\s*)+", re.I)
MAX_MESSAGE_BYTES = 30 * 1024 * 1024


@dataclass
class IntakeResult:
    """What happened to one message: created, replied, ignored or rejected (with why)."""

    action: str
    ticket: str | None = None
    reason: str = ""

    @property
    def failed(self) -> bool:
        return self.action == "rejected"


def _title(message: InboundMessage) -> str:
    title = REPLY_PREFIX.sub("", message.subject).strip()
    if not title:
        first = next((line.strip() for line in message.body.splitlines() if line.strip()), "")
        title = first[:100] or "(без темы)"
    return title[:200]


def _signed_number(message: InboundMessage) -> str | None:
    text = " ".join(message.recipients + message.in_reply_to + message.references)
    return find_ticket_number(text, current_app.config["SECRET_KEY"])


def _verified(message: InboundMessage) -> bool:
    """Whether our MTA's Authentication-Results vouch for the From address."""
    authserv_id = current_app.config["PORTAL_MAIL_AUTHSERV_ID"]
    return sender_verified(message.authentication_results, authserv_id, message.sender)


def _ticket_for(message: InboundMessage) -> Ticket | None:
    # Anyone can write a From: header and a [#number] tag; only a signed token, or a tag
    # from a sender our MTA verified, names the ticket.
    number = _signed_number(message)
    if number is None and (tag := subject_number(message.subject)) is not None:
        if _verified(message):
            number = tag
        else:
            log.warning("tag %s from unverified sender %s ignored", tag, message.sender)
    if number is None:
        return None
    return db.session.scalar(select(Ticket).where(Ticket.number == number))


def _may_write(user: User | None, ticket: Ticket) -> bool:
    if user is None or not user.active:
        return False
    if user.is_staff or user.id == ticket.author_id:
        return True
    return bool(user.organisation_id and user.organisation_id == ticket.organisation_id)


def _uploads(message: InboundMessage) -> list:
    limit = current_app.config["PORTAL_ATTACHMENTS_PER_MESSAGE"]
    stored = []
    for attachment in message.attachments:
        if len(stored) >= limit:
            log.warning("attachment %s skipped: too many files", attachment.filename)
            continue
        try:
            stored.append(store(attachment.filename, attachment.data))
        except UploadError as error:
            log.warning("attachment %s refused: %s", attachment.filename, error.code)
    return stored


def _discard(uploads) -> None:
    for item in uploads:
        item.discard()


def receive(raw: bytes) -> IntakeResult:
    """Turn one raw message into a ticket or a reply; never raises for bad mail."""
    try:
        message = parse_message(raw, max_bytes=MAX_MESSAGE_BYTES)
    except InboundError as error:
        log.warning("rejected: %s", error)
        return IntakeResult("rejected", reason=error.reason)
    if message.automatic:
        log.info("ignored automatic mail from %s: %s", message.sender, message.automatic)
        return IntakeResult("ignored", reason=f"automatic: {message.automatic}")
    sender = find_user(message.sender)
    ticket = _ticket_for(message)
    if ticket is not None:
        return _reply(ticket, sender, message)
    if sender is None or not sender.active or sender.is_staff:
        log.warning("rejected mail from unknown sender %s", message.sender)
        return IntakeResult("rejected", reason="unknown_sender")
    return _new_ticket(sender, message)


def _reply(ticket: Ticket, sender: User | None, message: InboundMessage) -> IntakeResult:
    # A subject tag can be guessed: without a signed token only the author may use it.
    tag_only = _signed_number(message) is None
    if not _may_write(sender, ticket) or (tag_only and sender.id != ticket.author_id):
        log.warning("refused %s writing to %s", message.sender, ticket.number)
        return IntakeResult("rejected", ticket.number, "not_allowed")
    if ticket.status in DONE_STATUSES and not sender.is_staff:
        if not can_reopen(ticket):
            return _new_ticket(sender, message, linked=ticket)
        reopen(ticket, sender)
    uploads = _uploads(message)
    try:
        post_reply(ticket, sender, message.body, uploads=uploads)
    except TicketError as error:
        _discard(uploads)
        log.warning("reply to %s refused: %s", ticket.number, error.code)
        return IntakeResult("rejected", ticket.number, error.code)
    return IntakeResult("replied", ticket.number)


def _new_ticket(sender: User, message: InboundMessage, linked: Ticket | None = None):
    uploads = _uploads(message)
    request = Request(
        author=sender,
        title=_title(message),
        description=message.body or "—",
        category=current_app.config["PORTAL_MAIL_CATEGORY"],
        channel="email",
        attachments=uploads,
        linked_ticket_id=linked.id if linked is not None else None,
    )
    try:
        ticket, _ = file_request(request)
    except OutOfScope as refusal:
        _discard(uploads)
        notify_refusal(sender, message, refusal.scope)
        return IntakeResult("rejected", reason="out_of_scope")
    except TicketError as error:
        _discard(uploads)
        log.warning("mail from %s not filed: %s", message.sender, error.code)
        return IntakeResult("rejected", reason=error.code)
    return IntakeResult("created", ticket.number)


def notify_refusal(sender: User, message: InboundMessage, scope) -> None:
    """Tell the customer why the letter did not become a request (a person wrote it)."""
    with force_locale(scope.lang):
        queue_mail(
            sender.email,
            "request_refused",
            {"scope": scope, "title": _title(message), "recipient": sender},
            kind="refused",
        )
    db.session.commit()
