"""Where incoming mail is read from: a Maildir, or an IMAP mailbox."""

import imaplib
import mailbox
from pathlib import Path

from portal.mail.intake import IntakeResult, receive


class SourceError(RuntimeError):
    """The mailbox could not be read (configuration, network, login)."""


def from_maildir(path: Path) -> list[IntakeResult]:
    """Process every new message of a Maildir; each moves to cur/ once handled."""
    box = mailbox.Maildir(path, create=False)
    results = []
    for key in list(box.iterkeys()):
        message = box.get_message(key)
        if message.get_subdir() != "new":
            continue
        results.append(receive(box.get_bytes(key)))
        message.set_subdir("cur")
        message.add_flag("S")
        box[key] = message
    return results


def from_imap(config) -> list[IntakeResult]:
    """Fetch unseen messages over IMAP (SSL), process them and mark them seen."""
    host = config["PORTAL_IMAP_HOST"]
    if not host:
        raise SourceError("PORTAL_IMAP_HOST is not set")
    try:
        with imaplib.IMAP4_SSL(host, config["PORTAL_IMAP_PORT"], timeout=60) as imap:
            imap.login(config["PORTAL_IMAP_USER"] or "", config["PORTAL_IMAP_PASSWORD"] or "")
            imap.select(config["PORTAL_IMAP_FOLDER"])
            _status, data = imap.search(None, "UNSEEN")
            results = []
            for number in data[0].split():
                _status, parts = imap.fetch(number, "(RFC822)")
                raw = next((p[1] for p in parts if isinstance(p, tuple)), b"")
                results.append(receive(raw))
                imap.store(number, "+FLAGS", "\\Seen")
            return results
    except (OSError, imaplib.IMAP4.error) as exc:
        raise SourceError(f"IMAP {host}: {exc}") from None
