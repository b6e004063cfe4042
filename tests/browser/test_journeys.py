"""The customer's, specialist's and editor's journeys, walked at 1280 px and on a phone,
with a screenshot of every step in test-artifacts/."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.editor import services as editor
from portal.extensions import db
from portal.outbox.models import OutboxMessage
from portal.tickets.models import Ticket
from tests.browser.conftest import ARTIFACTS, audit
from tests.browser.world import build_world, sign_in

WIDTHS = ["desktop", "phone"]


@pytest.fixture
def snap(request):
    """A full-page screenshot of a step, named after the test, its width and the step."""
    ARTIFACTS.mkdir(exist_ok=True)
    count = iter(range(1, 100))

    def take(page, step: str) -> None:
        name = f"{request.node.name}-{next(count):02d}-{step}.png"
        page.screenshot(path=str(ARTIFACTS / name), full_page=True)

    return take


def clean(page, axe_source) -> None:
    """No script error, failed load or accessibility violation on the page so far."""
    assert page.problems == []
    assert audit(page, axe_source) == []


@pytest.mark.parametrize("width", WIDTHS)
def test_a_visitor_signs_up_and_files_the_question_they_searched(
    app, live_server, new_page, axe_source, snap, width
):
    page = new_page(width)
    question = "Робот не двигает сделку по воронке"
    page.goto(f"{live_server}/search?q={question}")
    help_box = page.locator(".need-help").first
    expect(help_box).to_contain_text("Нужна помощь специалиста?")
    expect(help_box).to_contain_text("+7 (495) 229-14-41")
    snap(page, "search-need-help")
    help_box.get_by_role("link", name="Нет учётной записи? Зарегистрируйтесь").click()
    page.fill("#name", "Виктор Новиков")
    page.fill("#email", f"viktor-{width}@example.com")
    page.fill("#password", "a long new password")
    page.fill("#confirm", "a long new password")
    snap(page, "sign-up")
    page.click("form.form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Проверьте почту")
    snap(page, "check-mail")
    with app.app_context():
        letter = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "confirm_email")
        )
        link = re.search(r"http://\S+/account/confirm/\S+", letter.body_text).group(0)
    page.goto(live_server + link.split("5000", 1)[1])
    expect(page.locator(".flash")).to_contain_text("подтверждён")
    snap(page, "confirmed-sign-in")
    page.fill("#email", f"viktor-{width}@example.com")
    page.fill("#password", "a long new password")
    page.click("form.form button[type=submit]")
    expect(page.locator("#title")).to_have_value(question)
    snap(page, "wizard-with-question")
    page.select_option("#category", "crm")
    page.click("form[data-wizard-form] button[type=submit]")
    page.fill("#description", "Робот на стадии «Договор» не переводит сделку дальше.")
    snap(page, "description")
    page.click("form[data-wizard-form] button[type=submit]")
    expect(page.locator("h1")).to_have_text("Проверьте обращение")
    expect(page.locator(".wizard-steps")).to_contain_text("3. Предпросмотр")
    snap(page, "preview")
    page.get_by_role("button", name="Отправить обращение").click()
    expect(page.locator(".ticket-head h1")).to_have_text(question)
    snap(page, "ticket")
    clean(page, axe_source)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_customer_files_a_special_request_with_a_coupon(
    app, live_server, new_page, axe_source, snap, width
):
    world = build_world(app)
    page = new_page(width)
    sign_in(page, live_server, world.customer)
    page.goto(f"{live_server}/requests/new")
    page.fill("#title", "Сайт не открывается после обновления")
    page.select_option("#category", "general")
    snap(page, "subject")
    page.click("form[data-wizard-form] button[type=submit]")
    page.fill("#description", "После обновления ядра главная страница отдаёт ошибку 500.")
    page.select_option("#criticality", "critical")
    page.fill("#coupon", "WRONG-CODE-1")
    page.click("form[data-wizard-form] button[type=submit]")
    expect(page.locator(".field-error")).to_contain_text("Такого купона")
    snap(page, "wrong-coupon")
    page.fill("#coupon", world.coupon.lower())
    page.click("form[data-wizard-form] button[type=submit]")
    offer = page.locator(".coupon-ok")
    expect(offer).to_contain_text("спецзапросом")
    expect(offer).to_contain_text("15 спецзапросов из 15")
    expect(page.locator(".preview-card")).to_contain_text("Спецзапрос")
    snap(page, "preview-with-coupon")
    page.get_by_role("button", name="Отправить обращение").click()
    expect(page.locator(".ticket-head")).to_contain_text("Спецзапрос")
    snap(page, "ticket")
    clean(page, axe_source)
    page.goto(f"{live_server}/requests/{world.resolved}")
    page.locator(".stars-row label").nth(1).click()  # row-reverse: the second from the right is 4
    page.fill("#comment", "Быстро и по делу")
    page.get_by_role("button", name="Оценить").click()
    expect(page.locator("#comment")).to_have_value("Быстро и по делу")
    expect(page.locator("#rate")).to_contain_text("Ваша оценка: 4 из 5")
    snap(page, "rated")
    clean(page, axe_source)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_specialist_works_a_request_from_the_queue(
    app, live_server, new_page, axe_source, snap, width
):
    world = build_world(app)
    page = new_page(width)
    sign_in(page, live_server, world.agent)
    expect(page).to_have_url(re.compile(r"/agent/queue$"))
    snap(page, "queue")
    page.get_by_role("link", name="Письма с формы сайта уходят в спам").first.click()
    expect(page.locator(".ticket-details")).to_contain_text("Яндекс Почта")
    panel = page.locator(".staff-panel")
    panel_box, thread_box = panel.bounding_box(), page.locator(".thread").bounding_box()
    if width == "desktop":
        assert panel_box["x"] > thread_box["x"] + thread_box["width"] - 1  # beside the thread
    else:
        assert panel_box["y"] > thread_box["y"]  # below it
    snap(page, "ticket")
    panel.locator("select[name=status]").select_option("waiting_customer")
    panel.locator("select[name=criticality]").select_option("high")
    panel.get_by_role("button", name="Сохранить изменения").click()
    expect(page.locator(".flash")).to_contain_text("Сохранено")
    expect(page.locator("[data-ticket-status]")).to_have_text("Ждём ответа клиента")
    page.fill("#body", "Проверили: письма уходят, ждём вашего подтверждения.")
    page.get_by_role("button", name="Отправить", exact=True).click()
    expect(page.locator(".thread .message").last).to_contain_text("ждём вашего подтверждения")
    snap(page, "replied")
    clean(page, axe_source)
    with app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == world.fresh))
        assert (ticket.status, ticket.criticality) == ("waiting_customer", "high")


@pytest.fixture
def linked_articles(app):
    """Two articles of the editor's own, the second linking to the first by file and slug."""
    with app.app_context():
        target = editor.ArticleDraft(
            title="Настройка гипервизора", slug="nastroyka-gipervizora", lang="ru",
            category="support", summary="Как настроить гипервизор.",
            body="Гипервизор настраивается так.",
        )  # fmt: skip
        source = editor.ArticleDraft(
            title="Виртуальные машины", slug="virtualnye-mashiny", lang="ru",
            category="crm", summary="Где живут виртуальные машины.",
            body="См. [гипервизор](../support/nastroyka-gipervizora.ru.md) и "
            "[ещё раз](slug:nastroyka-gipervizora).",
        )  # fmt: skip
        author = build_world(app).editor
        editor.save(target, author)
        editor.save(source, author)
    yield author
    with app.app_context():
        for slug in ("virtualnye-mashiny", "gipervizor-nastroyka", "nastroyka-gipervizora"):
            if editor.find(slug):
                editor.delete(slug, author)


@pytest.mark.parametrize("width", WIDTHS)
def test_an_editor_renames_an_article_and_links_stay_intact(
    app, live_server, new_page, axe_source, snap, width, linked_articles
):
    page = new_page(width)
    sign_in(page, live_server, linked_articles)
    expect(page).to_have_url(re.compile(r"/editor/$"))
    snap(page, "articles")
    page.goto(f"{live_server}/editor/articles/nastroyka-gipervizora/edit")
    page.fill("#slug", "gipervizor-nastroyka")
    snap(page, "rename")
    page.get_by_role("button", name="Сохранить", exact=True).click()
    expect(page.locator(".flash")).to_be_visible()
    snap(page, "saved")
    response = page.goto(f"{live_server}/kb/nastroyka-gipervizora")
    assert response.request.redirected_from.url.endswith("/kb/nastroyka-gipervizora")
    assert response.request.redirected_from.response().status == 301
    expect(page).to_have_url(re.compile(r"/kb/gipervizor-nastroyka$"))
    snap(page, "old-address-redirected")
    page.goto(f"{live_server}/kb/virtualnye-mashiny")
    links = page.locator(".article-body a")
    expect(links).to_have_count(2)
    for href in links.evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        assert href == "/kb/gipervizor-nastroyka"
    assert 'href="#"' not in page.content()
    snap(page, "linking-article")
    clean(page, axe_source)
