"""Kill a process with SIGKILL in the middle of filing: nothing is half-written."""

import os
import signal
import subprocess
import sys
import time

from sqlalchemy import func, select

from portal.extensions import db
from portal.outbox.models import OutboxMessage
from portal.tickets.models import Attachment, AttachmentChunk, Message, Ticket, TicketCounter
from portal.tickets.storage import DatabaseStore
from tests.factories import make_user

FILER = """
import sys
from portal import create_app
from portal.accounts.models import User
from portal.extensions import db
from portal.tickets.services import NewTicket, file_ticket
app = create_app({"PORTAL_RATE_LIMITS": False})
with app.app_context():
    author = db.session.get(User, int(sys.argv[1]))
    print("ready", flush=True)
    while True:
        file_ticket(NewTicket(author=author, title="Нагрузка", description="Текст " * 200,
                              category="general"))
"""


def test_a_filing_process_killed_midway_leaves_no_half_written_ticket(
    app, database_url, kb_dirs, tmp_path
):
    with app.app_context():
        author_id = make_user().id
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_SECRET_KEY": "x",
        "PORTAL_INSTANCE_DIR": str(tmp_path),
        "PORTAL_ARTICLES_DIR": str(kb_dirs[0]),
        "PORTAL_INDEX_DIR": str(kb_dirs[1]),
    }
    for _ in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", FILER, str(author_id)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(0.4)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    with app.app_context():
        db.session.remove()
        tickets = db.session.scalars(select(Ticket)).all()
        assert tickets, "the filer never committed anything"
        assert all(t.messages and t.messages[0].body.startswith("Текст") for t in tickets)
        numbers = [t.number for t in tickets]
        assert len(numbers) == len(set(numbers))
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == len(tickets)
        orphans = db.session.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.ticket_id.not_in(select(Ticket.id)))
        )
        assert orphans == 0
        last = db.session.scalar(select(func.max(TicketCounter.last)))
        assert last >= max(int(n.split("-")[1]) for n in numbers)


ATTACHING_FILER = """
import sys
from portal import create_app
from portal.accounts.models import User
from portal.extensions import db
from portal.tickets.attachments import store
from portal.tickets.services import NewTicket, file_ticket
app = create_app({"PORTAL_RATE_LIMITS": False, "PORTAL_ATTACHMENT_STORE": "database"})
with app.test_request_context():
    author = db.session.get(User, int(sys.argv[1]))
    print("ready", flush=True)
    while True:
        log = store("log.txt", ("строка журнала\\n" * 40000).encode())
        file_ticket(NewTicket(author=author, title="Журнал", description="Журнал во вложении.",
                              category="general", attachments=[log]))
"""


def test_a_process_killed_while_storing_attachments_in_the_database_leaves_no_stray_piece(
    app, database_url, kb_dirs, tmp_path
):
    with app.app_context():
        author_id = make_user().id
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_SECRET_KEY": "x",
        "PORTAL_INSTANCE_DIR": str(tmp_path),
        "PORTAL_ARTICLES_DIR": str(kb_dirs[0]),
        "PORTAL_INDEX_DIR": str(kb_dirs[1]),
    }
    for _ in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", ATTACHING_FILER, str(author_id)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(0.6)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    expected = ("строка журнала\n" * 40000).encode()
    with app.app_context():
        db.session.remove()
        names = set(db.session.scalars(select(Attachment.stored_name)))
        assert names, "the filer never committed anything"
        pieces = set(db.session.scalars(select(AttachmentChunk.stored_name).distinct()))
        assert pieces == names  # no piece without its attachment, no attachment without pieces
        store = DatabaseStore()
        assert all(b"".join(store.chunks(name)) == expected for name in names)
