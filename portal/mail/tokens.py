"""Signed ticket tokens for e-mail threading: a reply is matched by a token nobody can guess.

A token is ``<number>.<signature>``, e.g. ``2026-000123.9f2c4e1a7b3d5e60``. It rides in the
plus-address of Reply-To (``support+2026-000123.9f2c...@example.com``) and in the Message-ID
of every notification (``<t.2026-000123.9f2c....<random>@example.com>``).
"""

import hashlib
import hmac
import re

SIGNATURE_LENGTH = 16
TOKEN = re.compile(r"(\d{4}-\d{6})\.([0-9a-f]{16})")


def _signature(number: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), f"ticket:{number}".encode(), hashlib.sha256).hexdigest()
    return digest[:SIGNATURE_LENGTH]


def ticket_token(number: str, secret: str) -> str:
    """The signed token of a ticket number."""
    return f"{number}.{_signature(number, secret)}"


def find_ticket_number(text: str, secret: str) -> str | None:
    """The ticket number of the first correctly signed token in `text` (an address, a header)."""
    for match in TOKEN.finditer(text or ""):
        number, signature = match.groups()
        if hmac.compare_digest(signature, _signature(number, secret)):
            return number
    return None


def reply_address(mailbox: str, number: str, secret: str) -> str:
    """The plus-address replies come back to: support+<token>@domain."""
    local, _, domain = mailbox.partition("@")
    return f"{local}+{ticket_token(number, secret)}@{domain}"


SUBJECT_TAG = re.compile(r"\[#(\d{4}-\d{6})\]")


def subject_number(subject: str) -> str | None:
    """The `[#2026-000123]` tag of a subject, trusted only for the ticket's own author."""
    match = SUBJECT_TAG.search(subject or "")
    return match.group(1) if match else None
