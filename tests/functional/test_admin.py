import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.accounts.models import Organisation, User
from portal.clock import aware
from portal.coupons.models import Coupon
from portal.coupons.services import issue
from portal.extensions import db
from portal.outbox.models import OutboxMessage
from portal.tickets.models import Ticket
from portal.tickets.services import NewTicket, file_ticket
from tests.factories import csrf_token, make_org, make_user, sign_in

MSK = ZoneInfo("Europe/Moscow")


def test_admin_sets_tiers_roles_and_issues_coupons(app, client):
    with app.app_context():
        admin, customer = make_user("admin"), make_user()
    sign_in(client, admin)
    token = csrf_token(client, "/admin/organisations")
    client.post(
        "/admin/organisations", data={"csrf_token": token, "name": "ООО Ромашка", "tier": "partner"}
    )
    with app.app_context():
        org = db.session.scalar(select(Organisation).filter_by(name="ООО Ромашка"))
        assert org.tier == "partner"
    page = client.post(
        "/admin/organisations",
        data={"csrf_token": token, "name": "ООО Ромашка", "tier": "vip"},
        follow_redirects=True,
    )
    assert "уже есть" in page.get_data(as_text=True)
    client.post(
        f"/admin/users/{customer.id}",
        data={
            "csrf_token": token,
            "name": "Новое Имя",
            "role": "customer",
            "organisation": str(org.id),
            "active": "y",
        },
    )
    with app.app_context():
        assert db.session.get(User, customer.id).tier == "partner"
    client.post(f"/admin/organisations/{org.id}/coupons", data={"csrf_token": token})
    client.post(f"/admin/organisations/{org.id}/coupons", data={"csrf_token": token})
    with app.app_context():
        first, second = db.session.scalars(select(Coupon).order_by(Coupon.id)).all()
        assert first.voided_at is not None and second.voided_at is None
    page = client.get(f"/admin/organisations/{org.id}").get_data(as_text=True)
    assert "аннулирован" in page and "осталось 15" in page


def test_a_calendar_correction_moves_deadlines(app, client):
    with app.app_context():
        admin, customer = make_user("admin"), make_user(org=make_org("commercial"))
    sign_in(client, admin)
    token = csrf_token(client, "/admin/calendar")
    page = client.post(
        "/admin/calendar",
        data={
            "csrf_token": token,
            "day": "2026-11-24",
            "kind": "day_off",
            "opens": "10:00",
            "closes": "12:00",
        },
    ).get_data(as_text=True)
    assert "нет рабочих часов" in page
    client.post(
        "/admin/calendar",
        data={"csrf_token": token, "day": "2026-11-24", "kind": "day_off", "note": "Субботник"},
    )
    with app.app_context():
        monday = dt.datetime(2026, 11, 23, 15, 0, tzinfo=MSK)
        customer = db.session.get(User, customer.id)
        ticket = file_ticket(
            NewTicket(author=customer, title="t", description="d", category="general"), now=monday
        )
        # 4 h on Monday, Tuesday is off, 2 h on Wednesday.
        assert aware(ticket.response_due) == dt.datetime(2026, 11, 25, 12, 0, tzinfo=MSK)
    assert "Субботник" in client.get("/admin/calendar").get_data(as_text=True)


def test_admins_are_warned_about_years_without_a_production_calendar(app, client):
    with app.app_context():
        admin = make_user("admin")
    sign_in(client, admin)
    page = client.get("/admin/").get_data(as_text=True)
    years = {dt.date.today().year, dt.date.today().year + 1}
    if any(y >= 2028 for y in years):
        assert "Нет производственного календаря" in page
    else:
        assert "Нет производственного календаря" not in page


def test_taking_a_special_request_mails_the_specialists_phone(app, client):
    with app.app_context():
        org = make_org("vip")
        coupon = issue(org)
        db.session.commit()
        customer = make_user(org=org)
        agent = make_user("agent", phone="+7 495 000-00-01")
        number = file_ticket(
            NewTicket(
                author=customer,
                title="Сайт лежит",
                description="500",
                category="site",
                coupon_code=coupon.code,
            )
        ).number
    sign_in(client, agent)
    token = csrf_token(client, f"/requests/{number}")
    client.post(f"/agent/tickets/{number}/take", data={"csrf_token": token})
    with app.app_context():
        mail = db.session.scalar(select(OutboxMessage).filter_by(kind="special_taken"))
        assert mail.recipient == customer.email and "+7 495 000-00-01" in mail.body_text


def test_demo_data_loads_every_role_tier_and_state(app, portal_cli):
    result = portal_cli("demo")
    assert result.exit_code == 0, result.output
    assert "agent@demo.example.com" in result.output and "coupon" in result.output
    with app.app_context():
        states = set(db.session.scalars(select(Ticket.status)))
        assert states == {"new", "open", "waiting_customer", "resolved", "closed"}
        roles = set(db.session.scalars(select(User.role)))
        assert roles == {"customer", "agent", "editor", "admin"}
    assert portal_cli("demo").exit_code != 0  # not on top of existing data
    assert portal_cli("demo", "--if-empty").exit_code == 0


def test_undeliverable_mail_is_shown_to_admins_and_can_be_retried(app, client):
    with app.app_context():
        admin = make_user("admin")
        customer = make_user()
        file_ticket(NewTicket(author=customer, title="t", description="d", category="general"))
        mail = db.session.scalar(select(OutboxMessage))
        mail.status, mail.attempts, mail.last_error = "failed", 8, "SMTPRecipientsRefused: 550"
        db.session.commit()
    sign_in(client, admin)
    assert "не удалось доставить" in client.get("/admin/").get_data(as_text=True)
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "SMTPRecipientsRefused" in page
    client.post(
        f"/admin/outbox/{mail.id}/retry", data={"csrf_token": csrf_token(client, "/admin/outbox")}
    )
    with app.app_context():
        assert db.session.get(OutboxMessage, mail.id).status == "pending"


def test_the_calendar_page_lists_coming_holidays_and_moved_days(app, client):
    with app.app_context():
        admin = make_user("admin")
    sign_in(client, admin)
    page = client.get("/admin/calendar").get_data(as_text=True)
    today = dt.date.today()
    if today.month in (11, 12):
        assert f"1 января {today.year + 1}" in page  # the New Year holidays ahead
