"""axe-core over every page type for every role, in both languages and at both widths:
no WCAG 2.1 A or AA violation, no console error, no page that scrolls sideways."""

import json

import pytest
from playwright.sync_api import expect

from portal.accounts.models import User
from portal.accounts.services import reset_token
from portal.extensions import db
from tests.browser.conftest import audit
from tests.browser.world import build_world, sign_in
from tests.factories import make_user

ARTICLE = "kak-podat-obrashchenie"


def pages_of(role: str, world) -> list[str]:
    """The page types a person in this role reaches."""
    if role == "visitor":
        return [
            "/",
            "/search?q=почта не приходит",
            "/search?q=xyzzyqq",
            f"/kb/{ARTICLE}",
            "/kb/category/support",
            "/support",
            "/signin?next=/requests/new%3Ftitle%3Dx",
            "/signup",
            "/signup/sent",
            "/password/reset",
            "/no-such-page",
        ]
    if role == "customer":
        return [
            "/requests",
            f"/requests/{world.answered}",
            f"/requests/{world.resolved}",
            "/requests/new?title=Сделки",
            f"/requests/drafts/{world.draft}/subject",
            f"/requests/drafts/{world.draft}/description",
            f"/requests/drafts/{world.draft}/preview",
            f"/requests/drafts/{world.mail_draft}/details",
            f"/requests/solved/{ARTICLE}",
            f"/kb/{ARTICLE}",
            "/account/sessions",
        ]
    if role == "agent":
        return [
            "/agent/queue",
            f"/requests/{world.answered}",
            "/agent/phone",
            "/agent/canned",
        ]
    if role == "editor":
        return [
            "/editor/",
            f"/editor/articles/{ARTICLE}/edit",
            f"/editor/articles/{ARTICLE}/history",
            "/editor/articles/new",
            "/editor/insights",
        ]
    return [
        "/admin/",
        "/admin/users",
        f"/admin/users/{world.customer.id}",
        "/admin/organisations",
        f"/admin/organisations/{world.org_id}",
        "/admin/calendar",
        "/admin/outbox",
    ]


@pytest.mark.parametrize("width", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("role", ["visitor", "customer", "agent", "editor", "admin"])
def test_no_accessibility_violations(app, live_server, new_page, axe_source, role, lang, width):
    world = build_world(app)
    page = new_page(width, lang)
    if role != "visitor":
        sign_in(page, live_server, getattr(world, role))
    found = {}
    for path in pages_of(role, world):
        page.problems.clear()
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("networkidle")
        problems = [p for p in page.problems if not (path == "/no-such-page" and "404" in p)]
        violations = audit(page, axe_source)
        sideways = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        rows = page.evaluate(
            "() => new Set([...document.querySelectorAll('.main-nav a')]"
            ".map(a => a.offsetTop)).size"
        )
        if width == "desktop" and rows > 1:
            problems.append(f"the header menu takes {rows} lines")
        if width == "phone":  # the folded header menu, opened
            page.locator(".menu-toggle").click()
            violations += [v for v in audit(page, axe_source) if v not in violations]
        if violations or problems or sideways > 0:
            found[path] = {"axe": violations, "problems": problems, "sideways_px": sideways}
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)


def _audit_state(page, axe_source) -> dict:
    page.wait_for_load_state("networkidle")
    sideways = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return {"axe": audit(page, axe_source), "problems": list(page.problems), "sideways": sideways}


@pytest.mark.parametrize("width", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_states_reached_by_acting_are_accessible(
    app, live_server, new_page, axe_source, lang, width
):
    """Pages one reaches only by doing something: the article after "No" (the comment box),
    the new-password page of a reset link, and a new account's "confirm your address"."""
    world = build_world(app)
    with app.app_context():
        token = reset_token(db.session.get(User, world.customer.id))
        newcomer = make_user(name="Новый Клиент", email_confirmed_at=None)
    found = {}

    page = new_page(width, lang)
    page.goto(f"{live_server}/kb/{ARTICLE}")
    page.locator(".vote-form button[value=no]").click()
    expect(page.locator("#comment")).to_be_visible()
    found["not helpful"] = _audit_state(page, axe_source)
    page.fill("#comment", "Нет шага про мобильное приложение")
    page.locator("#vote form button[type=submit]").click()
    found["comment sent"] = _audit_state(page, axe_source)

    page = new_page(width, lang)
    page.goto(f"{live_server}/password/reset/{token}")
    expect(page.locator("input[type=password]").first).to_be_visible()
    found["new password"] = _audit_state(page, axe_source)
    page.goto(f"{live_server}/password/reset/not-a-token")
    found["expired reset link"] = _audit_state(page, axe_source)

    page = new_page(width, lang)
    sign_in(page, live_server, newcomer)
    page.goto(f"{live_server}/account/confirm")
    expect(page.locator("h1")).to_have_count(1)
    found["confirm pending"] = _audit_state(page, axe_source)

    failing = {k: v for k, v in found.items() if v["axe"] or v["problems"] or v["sideways"] > 0}
    assert failing == {}, json.dumps(failing, ensure_ascii=False, indent=1)
