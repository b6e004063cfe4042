import datetime as dt
import re
import threading
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.clock import aware
from portal.coupons import services as coupons
from portal.coupons.models import Coupon
from portal.extensions import db
from portal.outbox.models import OutboxMessage
from portal.tickets.models import ImmutableTextError, Message, Ticket
from portal.tickets.services import (
    NewTicket,
    TicketError,
    change_service_level,
    file_ticket,
    staff_replied,
)
from tests.factories import csrf_token, make_org, make_user, sign_in

MSK = ZoneInfo("Europe/Moscow")


def msk(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=MSK)


def new(author, **extra) -> NewTicket:
    values = {"title": "Не работает", "description": "Подробности", "category": "general"}
    return NewTicket(author=author, **(values | extra))


def test_a_ticket_gets_a_year_number_its_tier_and_a_deadline(app):
    with app.app_context():
        author = make_user(org=make_org("commercial"))
        friday_evening = msk(2026, 11, 20, 18, 30)
        ticket = file_ticket(new(author), now=friday_evening)
        assert re.fullmatch(r"2026-\d{6}", ticket.number)
        assert (ticket.tier, ticket.service_level, ticket.status) == (
            "commercial",
            "standard",
            "new",
        )
        assert aware(ticket.response_due) == msk(2026, 11, 23, 15, 30)  # Monday
        second = file_ticket(new(author), now=friday_evening)
        assert int(second.number[5:]) == int(ticket.number[5:]) + 1
        mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id))
        assert mail.recipient == author.email and f"[#{ticket.number}]" in mail.subject


def test_a_customer_without_organisation_is_noncommercial(app):
    with app.app_context():
        ticket = file_ticket(new(make_user()), now=msk(2026, 11, 23, 12, 0))  # Monday noon
        assert ticket.tier == "noncommercial"
        assert aware(ticket.response_due) == msk(2026, 11, 25, 18, 0)  # 24 business hours


@pytest.mark.parametrize("field", ["title", "description"])
def test_empty_text_is_refused_and_nothing_is_written(app, field):
    with app.app_context():
        author = make_user()
        with pytest.raises(TicketError):
            file_ticket(new(author, **{field: "   "}))
        assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_the_original_text_cannot_be_changed(app):
    with app.app_context():
        ticket = file_ticket(new(make_user()))
        message = db.session.scalar(select(Message).where(Message.ticket_id == ticket.id))
        message.body = "rewritten"
        with pytest.raises(ImmutableTextError):
            db.session.commit()
        db.session.rollback()
        ticket = db.session.get(Ticket, ticket.id)
        ticket.title = "rewritten"
        with pytest.raises(ImmutableTextError):
            db.session.flush()
        db.session.rollback()


def test_the_clock_stops_on_a_reply_and_level_changes_recompute_it(app):
    with app.app_context():
        author = make_user(org=make_org("partner"))
        agent = make_user("agent")
        monday = msk(2026, 11, 23, 10, 0)
        ticket = file_ticket(new(author), now=monday)
        assert aware(ticket.response_due) == msk(2026, 11, 23, 15, 0)
        change_service_level(ticket, "consultation", agent)
        assert aware(ticket.response_due) == msk(2026, 11, 27, 14, 0)  # 40 h: Friday 14:00
        change_service_level(ticket, "development", agent)
        assert aware(ticket.response_due) == monday + dt.timedelta(days=24)
        staff_replied(ticket, monday + dt.timedelta(hours=1))
        assert ticket.response_due is None and ticket.first_response_at is not None
        kinds = [(e.kind, e.from_value, e.to_value) for e in ticket.events]
        assert ("service_level", "standard", "consultation") in kinds


def test_a_valid_coupon_makes_a_special_request(app):
    with app.app_context():
        org = make_org("vip")
        author = make_user(org=org)
        coupon = coupons.issue(org)
        db.session.commit()
        sunday_night = msk(2026, 11, 22, 3, 0)
        ticket = file_ticket(
            new(author, coupon_code=coupons.format_code(coupon.code).lower()), now=sunday_night
        )
        assert (ticket.service_level, ticket.status) == ("special", "open")
        assert aware(ticket.response_due) == msk(2026, 11, 22, 4, 0)
        assert db.session.get(Coupon, coupon.id).requests_used == 1


@pytest.mark.parametrize(
    "problem", ["not_found", "other_organisation", "expired", "voided", "used_up"]
)
def test_an_unusable_coupon_files_nothing(app, problem):
    with app.app_context():
        org = make_org("vip")
        author = make_user(org=org)
        coupon = coupons.issue(make_org("vip") if problem == "other_organisation" else org)
        code = coupon.code
        if problem == "not_found":
            code = "NOSUCHCODE42"
        elif problem == "expired":
            coupon.expires_at = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        elif problem == "voided":
            coupons.renew(org)
        elif problem == "used_up":
            coupon.requests_used = coupon.requests_total
        db.session.commit()
        with pytest.raises(coupons.CouponError) as caught:
            file_ticket(new(author, coupon_code=code))
        expected = "not_found" if problem == "other_organisation" else problem
        assert caught.value.code == expected
        assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_renewal_voids_the_unused_requests_of_the_old_coupon(app):
    with app.app_context():
        org = make_org("vip")
        old = coupons.issue(org)
        db.session.commit()
        fresh = coupons.renew(org)
        old = db.session.get(Coupon, old.id)
        assert old.voided_at is not None and old.requests_left == 0
        assert fresh.requests_left == 15
        assert fresh.expires_at - fresh.issued_at == dt.timedelta(days=365)


def test_concurrent_redemptions_succeed_exactly_as_often_as_requests_are_left(app):
    with app.app_context():
        org = make_org("vip")
        authors = [make_user(org=org) for _ in range(8)]
        coupon = coupons.issue(org)
        coupon.requests_used = coupon.requests_total - 3
        db.session.commit()
        code, author_ids = coupon.code, [a.id for a in authors]
    results: list[str] = []
    barrier = threading.Barrier(len(author_ids))

    def redeem(author_id):
        with app.app_context():
            author = db.session.get(User, author_id)
            barrier.wait()
            try:
                file_ticket(new(author, coupon_code=code))
                results.append("ok")
            except coupons.CouponError as error:
                results.append(error.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=redeem, args=(a,)) for a in author_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok"] * 3 + ["used_up"] * 5
    with app.app_context():
        assert db.session.scalar(select(Coupon.requests_used)) == 15
        numbers = db.session.scalars(select(Ticket.number)).all()
        assert len(numbers) == len(set(numbers)) == 3


def test_ticket_numbers_stay_unique_under_concurrent_filing(app):
    with app.app_context():
        author_id = make_user().id
    numbers: list[str] = []
    barrier = threading.Barrier(6)

    def file_some():
        with app.app_context():
            author = db.session.get(User, author_id)
            barrier.wait()
            for _ in range(5):
                numbers.append(file_ticket(new(author)).number)
            db.session.remove()

    threads = [threading.Thread(target=file_some) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(numbers) == len(set(numbers)) == 30


def test_the_ticket_api_is_for_the_author_and_staff_only(app, client):
    with app.app_context():
        org = make_org("commercial")
        author, stranger, colleague = make_user(org=org), make_user(), make_user(org=org)
        agent = make_user("agent")
        number = file_ticket(new(author), now=msk(2026, 11, 23, 10, 0)).number
    assert client.get(f"/api/tickets/{number}").status_code == 401
    for user, status in [(stranger, 404), (colleague, 404), (author, 200), (agent, 200)]:
        client.post("/signout", data={"csrf_token": csrf_token(client, "/signin")})
        sign_in(client, user)
        response = client.get(f"/api/tickets/{number}")
        assert response.status_code == status, user.email
    data = response.get_json()
    assert data["response_due"] == "2026-11-23T13:00:00+00:00"  # 16:00 MSK: 6 business hours
    assert data["tier"] == "commercial"


def test_an_organisation_admin_sees_the_colleagues_tickets(app, client):
    with app.app_context():
        org = make_org("commercial")
        author, boss = make_user(org=org), make_user(org=org, is_org_admin=True)
        number = file_ticket(new(author)).number
    sign_in(client, boss)
    assert client.get(f"/requests/{number}").status_code == 200


def test_the_queue_puts_out_of_turn_then_special_then_deadline(app, client):
    with app.app_context():
        vip = make_org("vip")
        coupon = coupons.issue(vip)
        db.session.commit()
        customer, noncommercial = make_user(org=vip), make_user()
        agent = make_user("agent")
        monday = msk(2026, 11, 23, 10, 0)
        late = file_ticket(new(noncommercial, title="Late deadline"), now=monday)
        soon = file_ticket(new(customer, title="Soon deadline"), now=monday)
        special = file_ticket(
            new(customer, title="Special one", coupon_code=coupon.code), now=monday
        )
        urgent = file_ticket(
            new(noncommercial, title="Site down", criticality="critical"), now=monday
        )
        order = [urgent.number, special.number, soon.number, late.number]
    sign_in(client, agent)
    page = client.get("/agent/queue").get_data(as_text=True)
    positions = [page.index(n) for n in order]
    assert positions == sorted(positions)
    filtered = client.get("/agent/queue?level=special").get_data(as_text=True)
    assert special.number in filtered and soon.number not in filtered


def test_customers_and_editors_cannot_open_the_console_or_admin(app, client):
    with app.app_context():
        customer, editor, agent = make_user(), make_user("editor"), make_user("agent")
    assert client.get("/agent/queue").status_code == 302  # to sign-in
    for user in (customer, editor):
        sign_in(client, user)
        assert client.get("/agent/queue").status_code == 403
        assert client.get("/admin/").status_code == 403
        client.post("/signout", data={"csrf_token": csrf_token(client, "/signin")})
    sign_in(client, agent)
    assert client.get("/admin/users").status_code == 403


def test_a_specialist_logs_a_phone_request_with_the_category_fields(app, client):
    with app.app_context():
        customer = make_user(org=make_org("partner"), email="caller@example.com")
        agent = make_user("agent")
    sign_in(client, agent)
    page = client.get("/agent/phone?category=telephony").get_data(as_text=True)
    assert 'name="details-phone_number"' in page
    token = csrf_token(client, "/agent/phone?category=telephony")
    data = {
        "csrf_token": token,
        "category": "telephony",
        "customer_email": "caller@example.com",
        "title": "Звонки сбрасываются",
        "criticality": "high",
        "description": "Клиент позвонил: исходящие сбрасываются через 30 секунд.",
        "details-phone_number": "not a phone",
    }
    page = client.post("/agent/phone", data=data).get_data(as_text=True)
    assert "Введите номер телефона" in page
    response = client.post("/agent/phone", data=data | {"details-phone_number": "+7 495 123-45-67"})
    assert response.status_code == 302
    with app.app_context():
        ticket = db.session.scalar(select(Ticket))
        assert (ticket.channel, ticket.author_id, ticket.tier) == ("phone", customer.id, "partner")
        assert ticket.details == {"phone_number": "+7 495 123-45-67"}
        assert ticket.events[0].actor_id == agent.id
