"""Outgoing webhooks: queued in the transaction of the change, POSTed signed to a real HTTP
server on 127.0.0.1, retried with backoff, given up on for good answers, and never sent twice
by concurrent workers (on whichever database the suite runs)."""

import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.api_v1.services import issue_token
from portal.api_v1.webhooks import emit
from portal.clock import aware, utcnow
from portal.extensions import db
from portal.outbox.models import Webhook, WebhookDelivery
from portal.outbox.queue import BACKOFF_SECONDS, MAX_ATTEMPTS
from portal.outbox.webhooks import deliver_webhooks
from portal.tickets.conversation import post_reply
from portal.tickets.models import Ticket
from portal.tickets.payloads import ticket_data
from portal.tickets.services import NewTicket, file_ticket
from tests.factories import make_org, make_user, sign_in

SECRET = "s3cret-for-signing"


class Receiver:
    """An HTTP server in a thread that records every POST and answers scripted statuses."""

    def __init__(self):
        self.requests: list[tuple[dict, bytes]] = []
        self.answers: list[int] = []  # statuses to give, in order; 200 when none are left
        self.delay = 0.0  # seconds before answering
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.requests.append((dict(self.headers), body))
                    status = receiver.answers.pop(0) if receiver.answers else 200
                time.sleep(receiver.delay)
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/portal"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def ids(self) -> list[str]:
        return [headers["X-Portal-Delivery"] for headers, _body in self.requests]


@pytest.fixture
def receiver():
    server = Receiver()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()
    server.thread.join()


def make_webhook(url: str, events=("ticket.created",), active=True) -> Webhook:
    hook = Webhook(url=url, secret=SECRET, events=list(events), active=active)
    db.session.add(hook)
    db.session.commit()
    return hook


def make_ticket(author=None, **fields) -> Ticket:
    values = {"title": "Не приходят письма", "description": "Подробности", "category": "mail"}
    return file_ticket(NewTicket(author=author or make_user(), **(values | fields)))


def queued(ticket: Ticket, url: str, event="ticket.created") -> WebhookDelivery:
    """One delivery of `event`, the webhook made after the ticket (so only this emit queues)."""
    make_webhook(url, events=[event])
    assert emit(event, ticket) == 1
    db.session.commit()
    return db.session.scalar(select(WebhookDelivery))


def delivery_count() -> int:
    return db.session.scalar(select(func.count()).select_from(WebhookDelivery))


def test_a_delivery_is_posted_signed_with_its_headers(app, receiver):
    with app.app_context():
        ticket = make_ticket(make_user(org=make_org("vip")))
        delivery = queued(ticket, receiver.url)
        assert deliver_webhooks() == 1
        [(headers, body)] = receiver.requests
        assert headers["X-Portal-Event"] == "ticket.created"
        assert headers["X-Portal-Delivery"] == str(delivery.id)
        expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Portal-Signature"], f"sha256={expected}")
        assert headers["Content-Type"].startswith("application/json")
        payload = json.loads(body)
        assert payload["event"] == "ticket.created"
        assert payload["ticket"] == ticket_data(ticket)
        db.session.refresh(delivery)
        assert (delivery.status, delivery.attempts, delivery.last_error) == ("delivered", 1, None)
        assert delivery.delivered_at is not None
        assert deliver_webhooks() == 0 and len(receiver.requests) == 1  # sent once


def test_only_active_subscribed_webhooks_get_an_event_and_notes_stay_inside(app, receiver):
    with app.app_context():
        ticket = make_ticket()
        subscribed = make_webhook(receiver.url, events=["ticket.created", "ticket.replied"])
        make_webhook(receiver.url, events=["ticket.status_changed"])
        make_webhook(receiver.url, events=["ticket.created"], active=False)
        assert emit("ticket.created", ticket) == 1
        db.session.rollback()  # emit commits nothing: the caller's transaction decides
        assert delivery_count() == 0
        assert emit("ticket.created", ticket) == 1
        db.session.commit()
        assert db.session.scalar(select(WebhookDelivery.webhook_id)) == subscribed.id
        agent = make_user("agent")
        note = post_reply(ticket, agent, "Проверить логи", internal=True)
        answer = post_reply(ticket, agent, "Исправили")
        before = delivery_count()
        assert emit("ticket.replied", ticket, message=note) == 0
        assert emit("ticket.replied", ticket, message=answer) == 1
        db.session.commit()
        assert delivery_count() == before + 1
        with pytest.raises(ValueError):
            emit("ticket.deleted", ticket)


def test_a_failure_is_retried_after_a_pause_then_delivered(app, receiver):
    receiver.answers = [500]
    with app.app_context():
        delivery = queued(make_ticket(), receiver.url)
        start = utcnow()
        assert deliver_webhooks(now=start) == 0
        db.session.refresh(delivery)
        assert (delivery.status, delivery.attempts, delivery.last_error) == (
            "pending",
            1,
            "HTTP 500",
        )
        pause = dt.timedelta(seconds=BACKOFF_SECONDS[0])
        assert aware(delivery.next_attempt_at) == start + pause
        assert deliver_webhooks(now=start + pause / 2) == 0  # not due yet
        assert len(receiver.requests) == 1
        assert deliver_webhooks(now=start + pause) == 1
        db.session.refresh(delivery)
        assert (delivery.status, delivery.attempts) == ("delivered", 2)
        assert receiver.ids() == [str(delivery.id)] * 2  # the same id on the retry


@pytest.mark.parametrize("status", [400, 404, 410, 422])
def test_a_client_error_fails_for_good(app, receiver, status):
    receiver.answers = [status]
    with app.app_context():
        delivery = queued(make_ticket(), receiver.url)
        assert deliver_webhooks() == 0
        db.session.refresh(delivery)
        assert (delivery.status, delivery.attempts, delivery.last_error) == (
            "failed",
            1,
            f"HTTP {status}",
        )
        assert deliver_webhooks(now=utcnow() + dt.timedelta(days=1)) == 0
        assert len(receiver.requests) == 1


@pytest.mark.parametrize("status", [302, 408, 429, 502, 503])
def test_timeouts_throttling_redirects_and_server_errors_are_retried(app, receiver, status):
    receiver.answers = [status]
    with app.app_context():
        delivery = queued(make_ticket(), receiver.url)
        assert deliver_webhooks() == 0
        db.session.refresh(delivery)
        assert (delivery.status, delivery.last_error) == ("pending", f"HTTP {status}")
        assert len(receiver.requests) == 1  # a redirect is not followed


def test_an_unreachable_receiver_is_retried_and_given_up_after_the_last_attempt(app):
    with app.app_context():
        probe = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
        closed_port = probe.server_port
        probe.server_close()  # nothing listens there now
        delivery = queued(make_ticket(), f"http://127.0.0.1:{closed_port}/hook")
        now = utcnow()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            assert deliver_webhooks(now=now) == 0
            db.session.refresh(delivery)
            assert delivery.attempts == attempt and "Error" in delivery.last_error
            now += dt.timedelta(hours=3)
        assert delivery.status == "failed"
        assert deliver_webhooks(now=now) == 0
        db.session.refresh(delivery)
        assert delivery.attempts == MAX_ATTEMPTS


def test_two_workers_never_send_one_delivery_twice(app, receiver):
    receiver.delay = 0.005  # so the two workers' sends overlap
    with app.app_context():
        author = make_user()
        tickets = [make_ticket(author) for _ in range(30)]
        make_webhook(receiver.url, events=["ticket.created"])
        for ticket in tickets:
            emit("ticket.created", ticket)
        db.session.commit()
    barrier = threading.Barrier(2)
    sent: list[int] = []
    errors: list[BaseException] = []

    def work():
        with app.app_context():
            try:
                barrier.wait()
                sent.append(deliver_webhooks())
            except BaseException as error:  # reported below: a thread cannot fail the test
                errors.append(error)
            finally:
                db.session.remove()

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert sum(sent) == 30
    assert len(receiver.ids()) == len(set(receiver.ids())) == 30
    with app.app_context():
        statuses = db.session.scalars(select(WebhookDelivery.status)).all()
        assert statuses == ["delivered"] * 30


def test_the_payload_is_what_the_ticket_api_returns(app, client):
    with app.app_context():
        author = make_user(org=make_org("partner"))
        ticket = make_ticket(author, details={"mailbox": "a@b.c"})
        ticket.assignee = make_user("agent")
        db.session.commit()
        expected = ticket_data(ticket)
    sign_in(client, author)
    assert client.get(f"/api/tickets/{expected['number']}").get_json() == expected


def test_the_api_and_every_channel_queue_events_in_the_same_transaction(app, client):
    with app.app_context():
        customer, agent = make_user(org=make_org("commercial")), make_user("agent")
        events = ["ticket.created", "ticket.replied", "ticket.status_changed"]
        make_webhook("http://127.0.0.1:9/unused", events=events)
        tokens = {u.id: issue_token(u, "sync")[1] for u in (customer, agent)}
        customer_id, agent_id = customer.id, agent.id
    created = client.post(
        "/api/v1/tickets",
        json={
            "title": "Deals do not move",
            "description": "When I drag a deal to the next stage it jumps back.",
            "category": "crm",
        },
        headers={"Authorization": f"Bearer {tokens[customer_id]}"},
    )
    number = created.get_json()["number"]
    client.post(
        f"/api/v1/tickets/{number}/replies",
        json={"body": "Looking into it"},
        headers={"Authorization": f"Bearer {tokens[agent_id]}"},
    )
    with app.app_context():
        file_ticket(
            NewTicket(
                author=db.session.get(User, customer_id),
                title="By e-mail",
                description="A letter",
                category="general",
                channel="email",
            )
        )
        sent = db.session.execute(
            select(WebhookDelivery.event, WebhookDelivery.payload).order_by(WebhookDelivery.id)
        ).all()
    assert [(event, payload["ticket"]["number"] == number) for event, payload in sent] == [
        ("ticket.created", True),
        ("ticket.status_changed", True),  # new -> open: a specialist answered
        ("ticket.replied", True),
        ("ticket.created", False),
    ]
    assert sent[2].payload["message"]["body"] == "Looking into it"
