import datetime as dt
import re
import socket
import threading
import time

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.extensions import db
from portal.mail.tokens import find_ticket_number
from portal.outbox.mail import SmtpTransport, build_email, deliver_pending
from portal.outbox.models import OutboxMessage
from portal.tickets.conversation import post_reply
from portal.tickets.models import CannedAnswer, Message, Ticket, TicketEvent
from portal.tickets.services import NewTicket, file_ticket
from tests.factories import csrf_token, make_org, make_user, sign_in


@pytest.fixture
def people(app):
    with app.app_context():
        org = make_org("commercial")
        customer = make_user(org=org, name="Карина")
        colleague = make_user(org=org)
        boss = make_user(org=org, is_org_admin=True)
        agent = make_user("agent", name="Сергей")
        ticket = file_ticket(
            NewTicket(
                author=customer,
                title="Письма не доходят",
                description="С утра письма не доходят.",
                category="mail",
            )
        )
        return {
            "customer": customer,
            "colleague": colleague,
            "boss": boss,
            "agent": agent,
            "number": ticket.number,
        }


def post(client, url, data=None, page=None):
    token = csrf_token(client, page or "/")
    return client.post(url, data={"csrf_token": token, **(data or {})})


def switch(client, user):
    post(client, "/signout")
    sign_in(client, user)


def ticket(app, number) -> Ticket:
    with app.app_context():
        return db.session.scalar(select(Ticket).where(Ticket.number == number))


def test_a_specialist_reply_stops_the_clock_and_turns_the_indicator_red(app, client, people):
    n = people["number"]
    sign_in(client, people["customer"])
    assert "dot-green" in client.get("/requests").get_data(as_text=True)
    switch(client, people["agent"])
    post(client, f"/requests/{n}/reply", {"body": "Проверьте SPF, пожалуйста."}, f"/requests/{n}")
    t = ticket(app, n)
    assert t.response_due is None and t.status == "open" and t.last_public_by_staff
    switch(client, people["customer"])
    page = client.get("/requests").get_data(as_text=True)
    assert "dot-red" in page and "Поддержка ответила" in page
    post(client, f"/requests/{n}/reply", {"body": "SPF в порядке."}, f"/requests/{n}")
    t = ticket(app, n)
    assert t.response_due is not None and not t.last_public_by_staff
    with app.app_context():
        bodies = db.session.scalars(select(Message.body).order_by(Message.id)).all()
        assert bodies == [
            "С утра письма не доходят.",
            "Проверьте SPF, пожалуйста.",
            "SPF в порядке.",
        ]


def test_internal_notes_never_reach_the_customer(app, client, people):
    n = people["number"]
    sign_in(client, people["agent"])
    post(
        client,
        f"/requests/{n}/reply",
        {"body": "Похоже на блокировку у хостера", "internal": "y"},
        f"/requests/{n}",
    )
    assert "блокировку у хостера" in client.get(f"/requests/{n}").get_data(as_text=True)
    switch(client, people["customer"])
    assert "блокировку у хостера" not in client.get(f"/requests/{n}").get_data(as_text=True)
    updates = client.get(f"/requests/{n}/updates?after=0").get_json()
    assert all("блокировку" not in html for html in updates["html"])
    post(client, f"/requests/{n}/reply", {"body": "x", "internal": "y"}, f"/requests/{n}")
    with app.app_context():
        assert not db.session.scalars(
            select(Message).where(Message.body == "x", Message.internal)
        ).all()


def test_the_thread_updates_live_after_the_last_seen_message(app, client, people):
    n = people["number"]
    sign_in(client, people["customer"])
    first = client.get(f"/requests/{n}/updates?after=0").get_json()
    assert len(first["html"]) == 1
    with app.app_context():
        agent = db.session.get(type(people["agent"]), people["agent"].id)
        post_reply(db.session.scalar(select(Ticket)), agent, "Ответ специалиста")
    later = client.get(f"/requests/{n}/updates?after={first['last']}").get_json()
    assert len(later["html"]) == 1 and "Ответ специалиста" in later["html"][0]
    assert client.get(f"/requests/{n}/updates?after=abc").status_code == 200


def test_my_requests_filters_sorts_and_pages(app, client, people):
    with app.app_context():
        customer = db.session.get(type(people["customer"]), people["customer"].id)
        for i in range(25):
            file_ticket(
                NewTicket(
                    author=customer,
                    title=f"Вопрос {i}",
                    description="Текст",
                    category="crm",
                    criticality="high" if i % 5 == 0 else "low",
                )
            )
    sign_in(client, people["customer"])
    page = client.get("/requests").get_data(as_text=True)
    assert "Страница 1 из 2" in page
    page = client.get("/requests?criticality=high").get_data(as_text=True)
    assert page.count('href="/requests/20') == 2 * 5
    page = client.get("/requests?q=письма").get_data(as_text=True)
    assert "Письма не доходят" in page and "Вопрос 3" not in page
    page = client.get(f"/requests?q={people['number']}").get_data(as_text=True)
    assert "Письма не доходят" in page
    for bad in ("?page=abc", "?date_from=yesterday", "?status=hacked", "?sort=drop", "?page=999"):
        assert client.get("/requests" + bad).status_code == 200
    assert "Вопрос 0" in client.get("/requests?sort=created&page=2").get_data(as_text=True)


def test_an_organisation_admin_sees_the_organisations_requests(app, client, people):
    sign_in(client, people["colleague"])
    assert "Письма не доходят" not in client.get("/requests").get_data(as_text=True)
    switch(client, people["boss"])
    assert "Письма не доходят" not in client.get("/requests").get_data(as_text=True)
    assert "Письма не доходят" in client.get("/requests?mine=org").get_data(as_text=True)


def test_close_rate_and_reopen_within_the_period(app, client, people):
    n = people["number"]
    sign_in(client, people["agent"])
    post(client, f"/requests/{n}/reply", {"body": "Готово"}, f"/requests/{n}")
    post(client, f"/agent/tickets/{n}/status", {"status": "resolved"}, f"/requests/{n}")
    assert ticket(app, n).status == "resolved"
    switch(client, people["customer"])
    page = client.get(f"/requests/{n}").get_data(as_text=True)
    assert "Продолжить обсуждение" in page and "Оценить ответ" in page
    post(client, f"/requests/{n}/rate", {"score": "4", "comment": "Быстро"}, f"/requests/{n}")
    post(client, f"/requests/{n}/rate", {"score": "9"}, f"/requests/{n}")
    with app.app_context():
        t = db.session.scalar(select(Ticket))
        assert (t.rating.score, t.rating.comment, t.rating.agent_id) == (4, "Быстро", None)
    post(client, f"/requests/{n}/reopen", page=f"/requests/{n}")
    t = ticket(app, n)
    assert t.status == "open" and t.response_due is not None
    post(client, f"/requests/{n}/close", page=f"/requests/{n}")
    assert ticket(app, n).status == "closed"
    with app.app_context():
        t = db.session.scalar(select(Ticket))
        t.closed_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=31)
        db.session.commit()
    response = post(client, f"/requests/{n}/reopen", page=f"/requests/{n}")
    assert f"linked={n}" in response.headers["Location"]
    assert ticket(app, n).status == "closed"
    page = client.get(f"/requests/{n}").get_data(as_text=True)
    assert "Новое обращение по этой теме" in page


def test_a_closed_request_takes_no_customer_replies(app, client, people):
    n = people["number"]
    sign_in(client, people["customer"])
    post(client, f"/requests/{n}/close", page=f"/requests/{n}")
    response = post(client, f"/requests/{n}/reply", {"body": "ещё"}, f"/requests/{n}")
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(Message).where(Message.body == "ещё")) is None


def test_specialist_changes_are_recorded_events(app, client, people):
    n = people["number"]
    sign_in(client, people["agent"])
    agent_id = str(people["agent"].id)
    for url, data in [
        ("assign", {"assignee": agent_id}),
        ("criticality", {"criticality": "high"}),
        ("category", {"category": "crm"}),
        ("level", {"service_level": "consultation"}),
        ("status", {"status": "waiting_customer"}),
    ]:
        post(client, f"/agent/tickets/{n}/{url}", data, f"/requests/{n}")
    post(client, f"/agent/tickets/{n}/level", {"service_level": "bogus"}, f"/requests/{n}")
    with app.app_context():
        events = db.session.scalars(select(TicketEvent).order_by(TicketEvent.id)).all()
        changes = [(e.kind, e.from_value, e.to_value) for e in events if e.kind != "created"]
        assert changes == [
            ("assignee", None, "Сергей"),
            ("criticality", "normal", "high"),
            ("category", "mail", "crm"),
            ("service_level", "standard", "consultation"),
            ("status", "new", "waiting_customer"),
        ]
        assert all(e.actor_id == people["agent"].id for e in events[1:])
    page = client.get(f"/requests/{n}").get_data(as_text=True)
    assert "Консультация" in page
    switch(client, people["customer"])
    assert post(client, f"/agent/tickets/{n}/status", {"status": "resolved"}).status_code == 403


def test_merging_a_duplicate_of_the_same_customer(app, client, people):
    with app.app_context():
        customer = db.session.get(type(people["customer"]), people["customer"].id)
        dup = file_ticket(
            NewTicket(author=customer, title="Опять письма", description="Дубль", category="mail")
        ).number
        other = file_ticket(
            NewTicket(author=make_user(), title="Чужое", description="x", category="mail")
        ).number
    sign_in(client, people["agent"])
    post(client, f"/agent/tickets/{dup}/merge", {"target": other}, f"/requests/{dup}")
    assert ticket(app, dup).merged_into_id is None
    post(client, f"/agent/tickets/{dup}/merge", {"target": people["number"]}, f"/requests/{dup}")
    merged, target = ticket(app, dup), ticket(app, people["number"])
    assert merged.merged_into_id == target.id and merged.status == "closed"
    assert "Дубль" in client.get(f"/requests/{people['number']}").get_data(as_text=True)


def test_saved_replies_fill_their_placeholders(app, client, people):
    sign_in(client, people["agent"])
    post(
        client,
        "/agent/canned",
        {
            "title": "Приветствие",
            "lang": "ru",
            "body": "{customer_name}, по обращению {ticket_number}: {oops",
        },
        "/agent/canned",
    )
    post(
        client,
        "/agent/canned",
        {
            "title": "Ок",
            "lang": "ru",
            "body": "{customer_name}, обращение {ticket_number}. {agent_name}",
        },
        "/agent/canned",
    )
    with app.app_context():
        ids = db.session.scalars(select(CannedAnswer.id).order_by(CannedAnswer.id)).all()
    text = client.get(f"/agent/canned/{ids[1]}?ticket={people['number']}").get_json()["text"]
    assert text == f"Карина, обращение {people['number']}. Сергей"
    text = client.get(f"/agent/canned/{ids[0]}?ticket={people['number']}").get_json()["text"]
    assert text.startswith("{customer_name}") or text.startswith("Карина")


def test_the_markdown_preview_is_sanitised(client, people, app):
    sign_in(client, people["customer"])
    token = csrf_token(client, "/signin")
    data = client.post(
        "/api/markdown",
        json={"text": "**жирно** <script>x</script>"},
        headers={"X-CSRFToken": token},
    ).get_json()
    assert "<strong>жирно</strong>" in data["html"] and "<script" not in data["html"]


def test_notifications_are_threaded_and_carry_a_signed_reply_address(app, client, people):
    n = people["number"]
    sign_in(client, people["agent"])
    post(client, f"/requests/{n}/reply", {"body": "Первый ответ"}, f"/requests/{n}")
    post(client, f"/agent/tickets/{n}/status", {"status": "resolved"}, f"/requests/{n}")
    with app.app_context():
        mails = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [m.kind for m in mails] == ["ticket_created", "reply", "rating_request"]
        secret = app.config["SECRET_KEY"]
        for mail in mails:
            assert f"[#{n}]" in mail.subject
            assert find_ticket_number(mail.reply_to, secret) == n
            assert find_ticket_number(mail.message_id, secret) == n
        assert mails[1].in_reply_to == mails[0].message_id
        assert mails[2].references.split() == [mails[0].message_id, mails[1].message_id]


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(envelope)
        return "250 OK"


def test_the_worker_delivers_over_smtp_and_retries_when_the_server_is_down(app, people):
    inbox = _Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with app.app_context():
            down = SmtpTransport("127.0.0.1", 1, timeout=2)  # nothing listens there
            assert deliver_pending(down) == 0
            waiting = db.session.scalar(select(OutboxMessage))
            assert waiting.status == "pending" and waiting.attempts == 1 and waiting.last_error
            later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
            assert deliver_pending(SmtpTransport("127.0.0.1", port), now=later) == 1
            assert db.session.scalar(select(OutboxMessage)).status == "sent"
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    raw = inbox.messages[0].content.decode()
    assert "multipart/alternative" in raw and f"[#{people['number']}]" in raw
    assert "Message-ID: <t." in raw and "Reply-To: support+" in raw


def test_a_title_cannot_inject_headers(app, people):
    with app.app_context():
        customer = db.session.get(type(people["customer"]), people["customer"].id)
        file_ticket(
            NewTicket(
                author=customer,
                title="Hi\r\nBcc: victim@example.com",
                description="x",
                category="mail",
            )
        )
        mail = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
        email = build_email(mail, "support@portal.local")
        assert email["Bcc"] is None and "\n" not in email["Subject"]


class _Counting:
    def __init__(self):
        self.sent = []
        self.lock = threading.Lock()

    def send(self, email, within=None):
        time.sleep(0.01)  # a slow server, so the workers overlap
        with self.lock:
            self.sent.append(email["Message-ID"])


def test_two_workers_on_one_outbox_never_send_a_message_twice(app):
    with app.app_context():
        author = make_user()
        for i in range(30):
            file_ticket(
                NewTicket(author=author, title=f"t{i}", description="d", category="general")
            )
    transport = _Counting()
    barrier = threading.Barrier(2)

    def work():
        with app.app_context():
            barrier.wait()
            while deliver_pending(transport, limit=5):
                pass
            db.session.remove()

    workers = [threading.Thread(target=work) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(transport.sent) == len(set(transport.sent)) == 30
    with app.app_context():
        statuses = db.session.scalars(select(OutboxMessage.status)).all()
        assert statuses == ["sent"] * 30


def test_a_new_request_can_follow_up_one_too_old_to_reopen(app, client, people):
    n = people["number"]
    with app.app_context():
        t = db.session.scalar(select(Ticket).where(Ticket.number == n))
        t.status, t.closed_at = "closed", dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
        db.session.commit()
    sign_in(client, people["customer"])
    page = client.get(f"/requests/new?linked={n}").get_data(as_text=True)
    assert f'name="linked" value="{n}"' in page and "Письма не доходят" in page
    token = csrf_token(client, f"/requests/new?linked={n}")
    response = client.post(
        "/requests/new",
        data={
            "csrf_token": token,
            "linked": n,
            "title": "Снова не доходят письма",
            "category": "general",
        },
    )
    draft_url = response.headers["Location"].rsplit("/", 1)[0]
    describe = f"{draft_url}/description"
    client.post(
        describe,
        data={
            "csrf_token": csrf_token(client, describe),
            "description": "Проблема вернулась через месяц, письма снова не доходят.",
            "criticality": "normal",
            "coupon": "",
        },
    )
    client.post(f"{draft_url}/submit", data={"csrf_token": csrf_token(client, "/signin")})
    with app.app_context():
        new = db.session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()
        old = db.session.scalar(select(Ticket).where(Ticket.number == n))
        assert new.number != n and new.linked_ticket_id == old.id
    assert n in client.get(f"/requests/{new.number}").get_data(as_text=True)


def test_the_panel_saves_every_changed_setting_with_one_button(app, client, people):
    n = people["number"]
    sign_in(client, people["agent"])
    page = client.get(f"/requests/{n}").get_data(as_text=True)
    assert page.count("Сохранить изменения") == 1 and ">Сохранить<" not in page
    post(
        client,
        f"/agent/tickets/{n}/panel",
        {
            "status": "waiting_customer",
            "assignee": str(people["agent"].id),
            "service_level": "consultation",
            "criticality": "normal",
            "category": "mail",
        },
        f"/requests/{n}",
    )
    with app.app_context():
        events = db.session.scalars(select(TicketEvent).order_by(TicketEvent.id)).all()
        kinds = [e.kind for e in events if e.kind != "created"]
    assert kinds == ["assignee", "service_level", "status"]  # unchanged fields leave no trace
    response = post(client, f"/agent/tickets/{n}/panel", {"status": "bogus"}, f"/requests/{n}")
    assert response.status_code == 302 and ticket(app, n).status == "waiting_customer"


def test_the_rating_comment_stays_in_the_box_to_be_changed(app, client, people):
    n = people["number"]
    sign_in(client, people["agent"])
    post(client, f"/requests/{n}/reply", {"body": "Готово"}, f"/requests/{n}")
    post(client, f"/agent/tickets/{n}/status", {"status": "resolved"}, f"/requests/{n}")
    switch(client, people["customer"])
    post(client, f"/requests/{n}/rate", {"score": "5", "comment": "Спасибо"}, f"/requests/{n}")
    page = client.get(f"/requests/{n}").get_data(as_text=True)
    assert "\nСпасибо</textarea>" in page
    assert re.search(r'<input checked[^>]*value="5"', page)
    assert "Обращение решено. Проблема осталась?" in page
    post(client, f"/requests/{n}/rate", {"score": "3", "comment": "Долго"}, f"/requests/{n}")
    with app.app_context():
        rating = db.session.scalar(select(Ticket)).rating
        assert (rating.score, rating.comment) == (3, "Долго")
