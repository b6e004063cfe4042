import re

from playwright.sync_api import expect
from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from portal.tickets.conversation import post_reply
from portal.tickets.models import Ticket
from portal.tickets.services import NewTicket, file_ticket
from portal.wizard.models import Draft
from tests.factories import PASSWORD, make_org, make_user


def sign_in(page, base, user):
    page.goto(f"{base}/signin")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.click("form.form button[type=submit]")
    expect(page.locator(".account-nav .who")).to_have_text(user.name)


def customer(app, tier="commercial"):
    with app.app_context():
        return make_user(org=make_org(tier))


def test_suggestions_appear_while_typing_and_solve_the_problem(app, live_server, page, shot):
    user = customer(app)
    sign_in(page, live_server, user)
    page.goto(f"{live_server}/requests/new")
    page.fill("#title", "Не приходит код двухфакторной авторизации")
    first = page.locator("[data-suggest-results] li a").first
    expect(first).to_contain_text("Двухфакторная")
    shot(page, "1-suggestions")
    first.click()
    article = page.locator("[data-suggest-article]")
    expect(article).to_be_visible()
    expect(article.locator("[data-article-body]")).to_contain_text("код")
    shot(page, "2-article-in-place")
    article.get_by_role("button", name="Это решило мою проблему").click()
    expect(page.locator("h1")).to_have_text("Рады, что помогло!")
    shot(page, "3-solved")
    with app.app_context():
        draft = db.session.scalar(select(Draft).where(Draft.user_id == user.id))
        assert draft.state == "deflected"
        assert draft.deflected_by.startswith("dvuhfaktornaya")


def test_a_request_with_an_attachment_goes_through_every_step(app, live_server, page, shot):
    user = customer(app, "partner")
    sign_in(page, live_server, user)
    page.goto(f"{live_server}/requests/new")
    page.fill("#title", "Звонки сбрасываются через 30 секунд")
    page.select_option("#category", "telephony")
    shot(page, "1-subject")
    page.click("form[data-wizard-form] button[type=submit]")
    page.click("form.form button[type=submit]")  # the phone number is required
    expect(page.locator(".field-error").first).to_be_visible()
    page.fill("#phone_number", "+7 495 123-45-67")
    shot(page, "2-details")
    page.click("form.form button[type=submit]")
    page.fill(
        "#description",
        "Исходящие звонки через SIP-АТС сбрасываются ровно через 30 секунд "
        "после ответа собеседника.",
    )
    page.select_option("#criticality", "high")
    page.set_input_files(
        "#files",
        files=[
            {"name": "sip.log", "mimeType": "text/plain", "buffer": b"BYE sip:100@pbx after 30s\n"}
        ],
    )
    shot(page, "3-description")
    page.click("form[data-wizard-form] button[type=submit]")
    expect(page.locator("h1")).to_have_text("Проверьте обращение")
    expect(page.locator(".preview-card")).to_contain_text("+7 495 123-45-67")
    expect(page.locator(".preview-card")).to_contain_text("sip.log")
    expect(page.locator(".preview-card")).to_contain_text("МСК")
    shot(page, "4-preview")
    page.get_by_role("button", name="Отправить обращение").click()
    expect(page.locator(".ticket-number")).to_contain_text(re.compile(r"20\d\d-\d{6}"))
    expect(page.locator(".file-list")).to_contain_text("sip.log")
    shot(page, "5-ticket")
    with app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.author_id == user.id))
        assert (ticket.category, ticket.criticality, ticket.tier) == (
            "telephony",
            "high",
            "partner",
        )


def test_an_out_of_scope_request_is_refused_at_preview(app, live_server, page, shot):
    user = customer(app)
    sign_in(page, live_server, user)
    page.goto(f"{live_server}/requests/new")
    page.fill("#title", "Установка на сервер")
    page.select_option("#category", "site")
    page.click("form[data-wizard-form] button[type=submit]")
    page.fill("#site_url", "https://shop.example.com")
    page.click("form.form button[type=submit]")
    page.fill(
        "#description",
        "Установите, пожалуйста, Битрикс24 на наш новый VPS сервер, "
        "доступы пришлём в ответном письме.",
    )
    page.click("form[data-wizard-form] button[type=submit]")
    notice = page.locator(".notice-bad")
    expect(notice).to_contain_text("не выполняет")
    expect(page.get_by_role("button", name="Отправить обращение")).to_have_count(0)
    expect(page.get_by_role("checkbox", name="Это неисправность продукта")).to_be_visible()
    shot(page, "refused")
    with app.app_context():
        assert db.session.scalar(select(Ticket).where(Ticket.author_id == user.id)) is None


def test_the_thread_shows_a_new_reply_without_a_reload(app, live_server, page, shot):
    with app.app_context():
        user = make_user(org=make_org("commercial"))
        agent = make_user("agent", name="Сергей")
        ticket = file_ticket(
            NewTicket(author=user, title="Живой чат", description="Вопрос", category="general")
        )
        number = ticket.number
    sign_in(page, live_server, user)
    page.goto(f"{live_server}/requests/{number}")
    expect(page.locator(".thread .message")).to_have_count(1)
    with app.app_context():
        post_reply(
            db.session.scalar(select(Ticket).where(Ticket.number == number)),
            db.session.get(User, agent.id),
            "Ответ **специалиста** пришёл сам",
        )
    expect(page.locator(".thread .message")).to_have_count(2, timeout=15_000)
    expect(page.locator(".thread .message").last).to_contain_text("специалиста пришёл сам")
    shot(page, "live")
