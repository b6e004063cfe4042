"""People and requests for the browser tests, built through the portal's own services."""

from dataclasses import dataclass

from playwright.sync_api import expect

from portal.coupons.services import issue
from portal.editor.imports import sync_history
from portal.extensions import db
from portal.tickets.conversation import post_reply, set_status
from portal.tickets.services import NewTicket, file_ticket
from portal.wizard import services as wizard
from tests.factories import PASSWORD, make_org, make_user


@dataclass
class World:
    customer: object
    agent: object
    editor: object
    admin: object
    org_id: int
    coupon: str
    fresh: str  # a new request in the queue
    answered: str  # a request support answered (the customer's turn)
    resolved: str  # a resolved request the customer may rate
    draft: str  # a draft that has reached the preview
    mail_draft: str  # a draft of a problem type with its own step


def build_world(app) -> World:
    with app.app_context():
        org = make_org("vip", name="ООО Ромашка")
        coupon = issue(org)
        db.session.commit()
        customer = make_user(org=org, name="Карина Клиентова")
        agent = make_user("agent", name="Сергей Специалистов")
        editor = make_user("editor", name="Елена Редакторова")
        admin = make_user("admin", name="Анна Админова")
        answered = file_ticket(
            NewTicket(
                author=customer,
                title="Не приходят письма из CRM",
                description="Письма клиентам из карточки сделки не доходят.",
                category="mail",
                details={"mailbox": "sales@example.com", "mail_service": "yandex"},
            )
        )
        post_reply(answered, agent, "Проверьте, пожалуйста, SPF-запись домена.")
        fresh = file_ticket(
            NewTicket(
                author=customer,
                title="Письма с формы сайта уходят в спам",
                description="Письма с веб-формы попадают в спам у получателей.",
                category="mail",
                details={"mailbox": "info@example.com", "mail_service": "yandex"},
            )
        )
        resolved = file_ticket(
            NewTicket(
                author=customer,
                title="Не звонит телефония",
                description="Звонки сбрасываются.",
                category="general",
            )
        )
        post_reply(resolved, agent, "Исправили маршрут на АТС.")
        set_status(resolved, "resolved", agent)
        draft = wizard.start(customer, "Сделки не двигаются по стадиям", "crm", "ru")
        wizard.save_description(draft, "Робот не переводит сделку на стадию.", "normal", "", [])
        mail_draft = wizard.start(customer, "Письма не уходят", "mail", "ru")
        db.session.commit()
        sync_history()  # every article has its first version in the history
        return World(
            customer, agent, editor, admin, org.id, coupon.code,
            fresh.number, answered.number, resolved.number, draft.token, mail_draft.token,
        )  # fmt: skip


def sign_in(page, base: str, user) -> None:
    page.goto(f"{base}/signin")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.click("form.form button[type=submit]")
    expect(page.locator(".account-nav .who")).to_have_text(user.name)
