"""Three hosts on one PostgreSQL and one Redis: shared rate limits, ticket numbers never
reused, and a host killed with SIGKILL in the middle of filing and of an SMTP conversation.

Each host is a gunicorn with two workers (`wsgi:app`) and a `portal worker`, with its own
instance folder, search index and copy of `articles/` (tests/hosts/cluster.py). The hosts
listen on their own loopback addresses, 127.0.0.2 to 127.0.0.4, rather than in network
namespaces: `ip netns` works here as root, but PostgreSQL, Redis and the SMTP servers listen
on 127.0.0.1 of the root namespace, which a namespace reaches only through a veth pair,
`route_localnet` and a DNAT rule: changes to the whole machine's network that need root,
that CI runners do not all allow, and that a crashed test would leave behind. What the
tests are about (processes that share nothing but the database and Redis, and die
independently) needs no more than separate addresses and process groups.

The hooks for more assertions: `cluster.hosts[i].url`, `.env`, `.kill()`, `.start()` and
`.wait_ready()`, `.session()`, `.api(token)`, `.signed_in(account)`, `.carrying(session)`;
`cluster.account("customer" | "editor" | "agent")`; `cluster.app` on the shared database;
`eventually(check, within=2)`. Settings for every host go into the `env` of the `cluster`
fixture (tests/hosts/conftest.py).

Skipped unless PORTAL_TEST_DATABASE_URL is a PostgreSQL URL and PORTAL_REDIS_URL is set.
"""

import itertools
import re
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser

import requests
from sqlalchemy import func, select

from portal.extensions import db
from portal.outbox.models import SENT, OutboxMessage
from portal.tickets.models import Attachment, Message, Ticket
from tests.hosts.cluster import eventually
from tests.hosts.conftest import API_RATE_LIMIT, LEASE_SECONDS

REQUEST = {
    "title": "Не приходят письма о новых сделках",
    "category": "general",
    "description": "Уведомления о новых сделках перестали приходить на почту сотрудникам.",
}


def file_through(host, token: str):
    """POST one request through `host`; (status or None when the host did not answer, number).

    Generous timeout: each worker's first check learns the scope classifier, and six
    workers learning at once share two cores.
    """
    try:
        answer = host.api(token).post("/api/v1/tickets", json=REQUEST, timeout=60)
    except requests.RequestException:
        return None, None
    return answer.status_code, answer.json().get("number") if answer.status_code == 201 else None


def outbox(cluster) -> list[OutboxMessage]:
    """Every row of the shared outbox."""
    with cluster.app.app_context():
        rows = db.session.scalars(select(OutboxMessage)).all()
        db.session.remove()
    return rows


def nothing_pending(cluster) -> bool:
    return all(row.status != "pending" for row in outbox(cluster))


class FormValues(HTMLParser):
    """What a browser would send back of the first form with this action."""

    def __init__(self, action: str):
        super().__init__()
        self.action, self.inside, self.values, self._field = action, False, {}, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        posts_to = attrs.get("action") or self.action  # no action: the page itself
        if tag == "form" and not self.values and posts_to == self.action:
            self.inside = True
        elif self.inside and tag == "input" and attrs.get("name"):
            if attrs.get("type") not in ("checkbox", "radio") or "checked" in attrs:
                self.values[attrs["name"]] = attrs.get("value", "")
        elif self.inside and tag in ("textarea", "select") and attrs.get("name"):
            self._field = attrs["name"]
            self.values.setdefault(self._field, "")
        elif self.inside and tag == "option" and self._field and "selected" in attrs:
            self.values[self._field] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag in ("textarea", "select"):
            self._field = None

    def handle_data(self, data):
        if self.inside and self._field and self._field not in ("category", "lang"):
            self.values[self._field] += data


def form_of(session, page: str, action: str) -> dict:
    parser = FormValues(action)
    parser.feed(session.get(page).text)
    assert parser.values, f"no form posting to {action} on {page}"
    return parser.values


def found_by_search(host, word: str, slug: str) -> bool:
    answer = host.session().get("/api/search", params={"q": word}, timeout=5)
    return slug in [hit["slug"] for hit in answer.json()["results"]]


def test_an_editors_save_through_one_host_is_found_on_the_others_within_two_seconds(cluster):
    a, b, c = cluster.hosts
    editor = a.signed_in(cluster.account("editor"))
    slug = "kak-podat-obrashchenie"
    page = f"/editor/articles/{slug}/edit"
    values = form_of(editor, page, page)
    word = f"квазар{secrets.token_hex(3)}"
    assert not found_by_search(b, word, slug)
    values["body"] = values["body"].rstrip() + f"\n\nПро {word} — в этом разделе.\n"
    saved = editor.post(page, data=values, allow_redirects=False)
    assert saved.status_code == 302, saved.text[:500]
    saved_at = time.monotonic()

    assert found_by_search(a, word, slug)  # the saving host at once
    assert eventually(lambda: found_by_search(b, word, slug), within=2)
    assert eventually(
        lambda: found_by_search(c, word, slug), within=2 - (time.monotonic() - saved_at)
    )
    assert word in c.session().get(f"/kb/{slug}").text


def test_an_attachment_uploaded_through_one_host_downloads_through_another(cluster):
    a, b, c = cluster.hosts
    customer = cluster.account()
    status, number = file_through(a, customer.token)
    assert status == 201
    on_b = b.signed_in(customer)
    token = re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', on_b.get(f"/requests/{number}").text
    )
    log = ("2026-12-02 10:00:01 ERROR mail: delivery failed\n" * 2000).encode()
    answer = on_b.post(
        f"/requests/{number}/reply",
        data={"csrf_token": token.group(1), "body": "Лог отправки приложил."},
        files={"files": ("mail.log", log, "text/plain")},
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[:500]
    with cluster.app.app_context():
        attachment = db.session.scalars(
            select(Attachment).join(Ticket).where(Ticket.number == number)
        ).one()
        attachment_id = attachment.id
        db.session.remove()

    download = c.carrying(on_b).get(f"/attachments/{attachment_id}")
    assert download.status_code == 200 and download.content == log
    stranger = c.signed_in(cluster.account())
    assert stranger.get(f"/attachments/{attachment_id}").status_code == 404


def test_a_session_signed_in_on_one_host_is_valid_on_the_others(cluster):
    a, b, c = cluster.hosts
    assert a.signed_in(cluster.account("editor")).get("/editor/").status_code == 200
    on_b = b.signed_in(cluster.account())
    assert c.session().get("/requests", allow_redirects=False).status_code == 302  # to sign in
    assert c.carrying(on_b).get("/requests", allow_redirects=False).status_code == 200


def test_a_rate_limit_counts_the_same_over_three_hosts_as_on_one(cluster):
    spread, alone = cluster.account(), cluster.account()
    hosts = cluster.hosts
    clients = [host.api(spread.token) for host in hosts]
    spread_statuses = [clients[i % 3].get("/api/v1/tickets").status_code for i in range(45)]
    one = hosts[0].api(alone.token)
    alone_statuses = [one.get("/api/v1/tickets").status_code for _ in range(45)]

    assert set(spread_statuses) == set(alone_statuses) == {200, 429}
    assert spread_statuses.count(200) == alone_statuses.count(200) == API_RATE_LIMIT
    assert spread_statuses[API_RATE_LIMIT:] == [429] * (45 - API_RATE_LIMIT)


def test_ticket_numbers_filed_at_once_through_three_hosts_are_unique(cluster):
    accounts = [cluster.account() for _ in range(6)]
    jobs = [(host, account.token) for host in cluster.hosts for account in accounts] * 2
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda job: file_through(*job), jobs))

    assert [status for status, _ in answers] == [201] * len(jobs)
    numbers = [number for _, number in answers]
    assert len(set(numbers)) == len(numbers)
    with cluster.app.app_context():
        stored = db.session.scalars(select(Ticket.number).where(Ticket.number.in_(numbers))).all()
        db.session.remove()
    assert sorted(stored) == sorted(numbers)


def test_a_host_killed_mid_filing_and_mid_smtp_loses_nothing_and_sends_nothing_twice(cluster, mail):
    a, b, c = cluster.hosts
    assert eventually(lambda: nothing_pending(cluster), within=40)
    mail.listeners["A"].stall.set()  # A's SMTP server holds DATA: A's worker hangs inside it
    tokens = itertools.cycle([cluster.account().token for _ in range(6)])
    token_lock = threading.Lock()
    answers: list[tuple[str, int | None, str | None]] = []
    stop = threading.Event()

    def keep_filing(host):
        while not stop.is_set():
            with token_lock:
                token = next(tokens)
            status, number = file_through(host, token)
            answers.append((host.name, status, number))
            time.sleep(0.05)

    filers = [threading.Thread(target=keep_filing, args=(host,)) for host in (a, a, b, c)]
    for filer in filers:
        filer.start()
    try:
        assert mail.listeners["A"].stalled.wait(30), "A's worker never reached DATA"
        a.kill()  # gunicorn and its workers, and the outbox worker, by SIGKILL
        time.sleep(1.5)  # B and C go on filing without A
    finally:
        stop.set()
        for filer in filers:
            filer.join()
        mail.listeners["A"].stall.clear()

    # B and C lost nothing: every answer they gave was a filed ticket.
    assert {status for name, status, _ in answers if name != "A"} == {201}
    assert any(status is None for name, status, _ in answers if name == "A")
    filed = [number for _, status, number in answers if status == 201]
    with cluster.app.app_context():
        tickets = db.session.execute(
            select(Ticket.number, func.count(Message.id))
            .outerjoin(Message, Message.ticket_id == Ticket.id)
            .group_by(Ticket.id, Ticket.number)
        ).all()
        db.session.remove()
    numbers = [number for number, _ in tickets]
    assert len(numbers) == len(set(numbers)) and len(filed) == len(set(filed))
    assert set(filed) <= set(numbers)  # every success is stored, once
    assert min(messages for _, messages in tickets) >= 1  # none without its first message

    # The letter A's worker held goes out through B or C once its lease has run out.
    assert eventually(lambda: nothing_pending(cluster), within=10 * LEASE_SECONDS)
    rows = outbox(cluster)
    assert {row.status for row in rows} == {SENT}
    assert any(row.attempts >= 2 for row in rows)
    time.sleep(LEASE_SECONDS + 1)  # a second copy would have come by now
    counts = mail.counts()
    assert counts == {row.message_id: 1 for row in rows}

    # A comes back: it serves again and its worker sends nothing a second time.
    a.start()
    a.wait_ready()
    assert a.session().get("/healthz").json() == {"status": "ok"}
    time.sleep(1.5)
    assert mail.counts() == counts
