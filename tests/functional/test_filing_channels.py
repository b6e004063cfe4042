"""One filing policy: the same text gets the same verdict, level and deadline from every
channel (the web wizard, the REST API, e-mail, a phone call a specialist logs)."""

from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from portal.api_v1.services import issue_token
from portal.calendar.services import sla_policy
from portal.extensions import db
from portal.mail.intake import receive
from portal.sla import response_due
from portal.tickets.models import Ticket
from tests.factories import csrf_token, make_user, sign_in
from tests.functional.test_wizard import describe, draft_token, start

TITLE = "Вопрос к поддержке"
TEXTS = {
    "in_scope": "Сделки в CRM не переходят на следующую стадию воронки, карточка зависает.",
    "consultation": "Подскажите, как написать цикл foreach на PHP для обхода массива "
    "и вывести его элементы в таблицу?",
    "out_of_scope": "Установите, пожалуйста, Битрикс24 на наш новый VPS сервер, доступы пришлём.",
}
LEVELS = {"in_scope": "standard", "consultation": "consultation", "out_of_scope": None}


def by_web(app, client, customer, text):
    sign_in(client, customer)
    token = draft_token(start(client, TITLE, "general"))
    describe(client, token, text)
    preview = f"/requests/drafts/{token}/preview"
    client.post(
        f"/requests/drafts/{token}/submit", data={"csrf_token": csrf_token(client, preview)}
    )


def by_api(app, client, customer, text):
    with app.app_context():
        secret = issue_token(db.session.merge(customer), "sync")[1]
    body = {"title": TITLE, "description": text, "category": "general"}
    client.post("/api/v1/tickets", json=body, headers={"Authorization": f"Bearer {secret}"})


def by_mail(app, client, customer, text):
    letter = EmailMessage()
    letter["From"], letter["To"], letter["Subject"] = customer.email, "support@portal.local", TITLE
    letter.set_content(text)
    with app.app_context():
        receive(bytes(letter))


def phone_form(client, customer, text, **extra) -> dict:
    url = "/agent/phone?category=general"
    return {
        "csrf_token": csrf_token(client, url),
        "category": "general",
        "customer_email": customer.email,
        "title": TITLE,
        "criticality": "normal",
        "description": text,
        **extra,
    }


def by_phone(app, client, customer, text):
    with app.app_context():
        agent = make_user("agent")
    sign_in(client, agent)
    client.post("/agent/phone", data=phone_form(client, customer, text))


@pytest.mark.parametrize("verdict", list(TEXTS))
@pytest.mark.parametrize("channel", [by_web, by_api, by_mail, by_phone], ids=lambda f: f.__name__)
def test_every_channel_files_the_same_text_alike(app, client, channel, verdict):
    with app.app_context():
        customer = make_user()  # non-commercial: installing is not support's work
    channel(app, client, customer, TEXTS[verdict])
    with app.app_context():
        tickets = db.session.scalars(select(Ticket)).all()
        if LEVELS[verdict] is None:
            assert tickets == []
            return
        assert len(tickets) == 1
        ticket = tickets[0]
        assert (ticket.service_level, ticket.tier, ticket.scope_review) == (
            LEVELS[verdict],
            "noncommercial",
            False,
        )
        due = response_due(ticket, ticket.created_at, sla_policy())
        assert ticket.response_due == due
        assert db.session.scalar(select(func.count()).select_from(Ticket)) == 1


def test_a_specialist_files_a_refused_phone_request_anyway_with_the_reason(app, client):
    with app.app_context():
        customer = make_user()
    by_phone(app, client, customer, TEXTS["out_of_scope"])
    data = phone_form(client, customer, TEXTS["out_of_scope"])
    page = client.post("/agent/phone", data=data).get_data(as_text=True)
    assert "/kb/chto-ne-delaet-tekhpodderzhka" in page and 'name="scope_note"' in page
    data["scope_note"] = "Клиент говорит, что установщик падает с ошибкой"
    assert client.post("/agent/phone", data=data).status_code == 302
    with app.app_context():
        ticket = db.session.scalar(select(Ticket))
        assert ticket.channel == "phone" and ticket.scope_review
        assert ticket.details["scope_note"].startswith("Клиент говорит")
