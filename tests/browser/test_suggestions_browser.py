"""The request wizard's suggestion panel in a real browser, over the starter knowledge base."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from playwright.sync_api import expect

from portal.config import PROJECT_ROOT
from tests.browser.test_wizard_browser import customer, sign_in

LINKS = "[data-suggest-results] li a[data-slug]"
NOTIFICATIONS = "profil-chasovoy-poyas-uvedomleniya"
TELEPHONY_RU = "podklyuchenie-ats-sip-arenda-nomera-marshrutizaciya"
TELEPHONY_EN = "connect-sip-pbx-rent-number-call-routing"


@pytest.fixture(scope="module")
def articles() -> dict[str, dict]:
    """Front matter of every starter article by slug."""
    found = {}
    for path in (PROJECT_ROOT / "articles").rglob("*.md"):
        meta = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])
        found[meta["slug"]] = meta
    return found


def slugs(page) -> list[str]:
    return page.locator(LINKS).evaluate_all("links => links.map(a => a.dataset.slug)")


def is_suggest(response) -> bool:
    return urlsplit(response.url).path == "/api/suggest"


def shown_after(page, action) -> tuple[list[str], dict]:
    """Run `action`, wait for the panel to show the answer it caused; that answer's slugs
    and the query it was asked with."""
    with page.expect_response(is_suggest) as answer:
        action()
    response = answer.value
    results = response.json()["results"]
    expect(page.locator(LINKS)).to_have_text([r["title"] for r in results])
    return [r["slug"] for r in results], parse_qs(urlsplit(response.url).query)


def new_request(app, page, base):
    sign_in(page, base, customer(app))
    page.goto(f"{base}/requests/new")


def test_a_russian_question_finds_its_article_while_typing(app, live_server, page, shot):
    new_request(app, page, live_server)
    panel = page.locator("[data-suggest-panel]")
    expect(panel.locator("[data-suggest-empty]")).to_be_visible()
    page.locator("#title").press_sequentially("Не приходят уведомления на почту")
    expect(panel.locator(f'a[data-slug="{NOTIFICATIONS}"]')).to_be_visible()
    expect(panel.locator(LINKS)).to_have_count(5)
    expect(panel.locator("[data-suggest-empty]")).to_be_hidden()
    shot(page, "notifications")
    page.fill("#title", "как подключить телефонию")
    expect(page.locator(LINKS).first).to_have_attribute("data-slug", TELEPHONY_RU)
    expect(page.locator(LINKS).first).to_contain_text("Подключение телефонии")


def test_not_it_replaces_the_article_for_the_rest_of_the_draft(app, live_server, page, shot):
    new_request(app, page, live_server)
    page.fill("#title", "Не приходят уведомления на почту")
    page.select_option("#category", "users")
    page.click("form[data-wizard-form] button[type=submit]")
    expect(page).to_have_url(re.compile(r"/description$"))
    page.wait_for_load_state()  # the panel's script handles the clicks below
    expect(page.locator(LINKS)).to_have_count(5)  # rendered by the server from the title
    first = page.locator(LINKS).first
    rejected = first.get_attribute("data-slug")
    first.click()
    viewer = page.locator("[data-suggest-article]")
    expect(viewer).to_be_visible()
    expect(page.locator("[data-suggest-results]")).to_be_hidden()
    shot(page, "1-opened")
    with page.expect_response(
        lambda r: r.url.endswith("/events") and "not_it" in r.request.post_data
    ):
        now, asked = shown_after(page, viewer.get_by_role("button", name="Не то").click)
    assert asked["exclude"] == [rejected]
    assert len(now) == 5 and rejected not in now
    expect(viewer).to_be_hidden()
    shot(page, "2-not-it")

    typed, asked = shown_after(
        page, lambda: page.fill("#description", "Письма о новых задачах и комментариях не приходят")
    )
    assert asked["exclude"] == [rejected] and "задачах" in asked["q"][0]
    assert typed and rejected not in typed

    page.reload()
    panel = page.locator("[data-suggest-panel]")
    expect(panel).to_have_attribute("data-rejected", rejected)
    expect(page.locator(LINKS)).to_have_count(5)
    assert rejected not in slugs(page)
    typed, asked = shown_after(
        page, lambda: page.fill("#description", "Уведомления о задачах не приходят на почту")
    )
    assert asked["exclude"] == [rejected]
    assert len(typed) == 5 and rejected not in typed
    shot(page, "3-after-reload")


def test_the_readers_language_comes_first_and_once(app, live_server, page, articles):
    new_request(app, page, live_server)
    # Search offers both copies of the telephony article for this question; the panel, one.
    shown, _ = shown_after(page, lambda: page.fill("#title", "телефония SIP"))
    assert shown[0] == TELEPHONY_RU
    groups = [articles[s].get("translation_of") or s for s in shown]
    assert len(groups) == len(set(groups)), shown
    shown, _ = shown_after(page, lambda: page.fill("#title", "как подключить телефонию"))
    assert {articles[s]["lang"] for s in shown} == {"ru"}, shown

    page.select_option("#lang-select", "en")
    expect(page.locator("#suggest-title")).to_have_text("These articles may answer your question")
    page.wait_for_load_state()
    shown, asked = shown_after(page, lambda: page.fill("#title", "how do I set up telephony"))
    assert "lang" not in asked  # the interface language alone decides
    assert shown[0] == TELEPHONY_EN
    assert {articles[s]["lang"] for s in shown} == {"en"}, shown
    groups = [articles[s].get("translation_of") or s for s in shown]
    assert len(groups) == len(set(groups)), shown
