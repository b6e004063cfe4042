"""A way to support from wherever self-service ends, with the question carried over."""

import re
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from portal.extensions import db
from portal.outbox.models import OutboxMessage
from tests.factories import csrf_token, make_org, make_user, sign_in


def _signin_link(page: str) -> str:
    href = re.search(r'href="(/signin\?next=[^"]+)"', page).group(1)
    return href.replace("&amp;", "&")


def _carried_title(page: str) -> str:
    """The wizard title the visitor's sign-in link carries."""
    next_target = parse_qs(urlsplit(_signin_link(page)).query)["next"][0]
    assert next_target.startswith("/requests/new?")
    return parse_qs(urlsplit(next_target).query)["title"][0]


def test_nothing_found_offers_a_visitor_the_way_to_a_request(client):
    page = client.get("/search?q=xyzzyqq+frobnicate").get_data(as_text=True)
    assert "Нужна помощь специалиста?" in page
    assert "+7 (495) 229-14-41" in page and "8-800-250-18-60" in page
    assert "support@portal.local" in page and "10:00–19:00" in page
    assert _carried_title(page) == "xyzzyqq frobnicate"
    assert "/signup?next=" in page


def test_every_article_and_the_header_lead_to_support(client):
    page = client.get("/kb/kak-podat-obrashchenie").get_data(as_text=True)
    assert "Нужна помощь специалиста?" in page and 'href="/support"' in page
    assert "Нужна помощь специалиста?" in client.get("/support").get_data(as_text=True)


def test_an_article_opened_from_search_carries_the_search_words(client):
    page = client.get("/kb/kak-podat-obrashchenie?from_search=как+подать+заявку").get_data(
        as_text=True
    )
    assert _carried_title(page) == "как подать заявку"


def test_a_signed_in_customer_goes_straight_to_the_wizard_with_the_title(app, client):
    with app.app_context():
        user = make_user(org=make_org())
    sign_in(client, user)
    page = client.get("/search?q=xyzzyqq").get_data(as_text=True)
    assert 'href="/requests/new?title=xyzzyqq"' in page
    form = client.get("/requests/new?title=xyzzyqq").get_data(as_text=True)
    assert 'value="xyzzyqq"' in form


def test_staff_see_no_request_button(app, client):
    with app.app_context():
        agent = make_user(role="agent")
    sign_in(client, agent)
    assert "Нужна помощь специалиста?" not in client.get("/search?q=xyzzyqq").get_data(as_text=True)


def test_sign_in_leads_on_into_the_wizard_with_the_question(app, client):
    with app.app_context():
        user = make_user()
    target = "/signin?next=/requests/new%3Ftitle%3D%D0%BF%D0%BE%D1%87%D1%82%D0%B0"
    page = client.get(target).get_data(as_text=True)
    assert "форма обращения откроется" in page
    assert "/signup?next=/requests/new" in page
    response = client.post(
        target,
        data={
            "csrf_token": csrf_token(client, target),
            "email": user.email,
            "password": "correct horse battery",
        },  # fmt: skip
    )
    assert response.headers["Location"] == "/requests/new?title=%D0%BF%D0%BE%D1%87%D1%82%D0%B0"
    assert 'value="почта"' in client.get(response.headers["Location"]).get_data(as_text=True)


def test_sign_up_carries_the_question_through_the_confirmation_letter(app, client):
    target = "/signup?next=/requests/new%3Ftitle%3Dmail"
    response = client.post(
        target,
        data={
            "csrf_token": csrf_token(client, target),
            "name": "Новый Клиент",
            "email": "newcomer@example.com",
            "password": "long enough pw",
            "confirm": "long enough pw",
        },
    )
    sent = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "/signin?next=/requests/new?title%3Dmail" in sent
    with app.app_context():
        mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "confirm_email"))
        link = re.search(r"http://\S+/account/confirm/\S+", mail.body_text).group(0)
    confirmed = client.get(link.split("5000", 1)[1])
    assert confirmed.headers["Location"] == "/signin?next=/requests/new?title%3Dmail"


def test_a_foreign_next_is_not_carried(client):
    page = client.get("/signup?next=//evil.example/x").get_data(as_text=True)
    assert 'href="/signin"' in page and "/signin?next=" not in page


def test_staff_land_on_their_work_after_signing_in(app, client):
    with app.app_context():
        agent = make_user(role="agent")
        editor = make_user(role="editor")
    assert sign_in(client, agent).headers["Location"] == "/agent/queue"
    client.post("/signout", data={"csrf_token": csrf_token(client, "/agent/queue")})
    assert sign_in(client, editor).headers["Location"] == "/editor/"


def test_every_page_names_its_icon_and_manifest(client):
    page = client.get("/").get_data(as_text=True)
    assert 'rel="manifest"' in page and "favicon.svg" in page
    assert client.get("/favicon.ico").status_code == 301
    response = client.get("/static/manifest.json")
    manifest = response.get_json()
    response.close()
    assert {i["sizes"] for i in manifest["icons"]} >= {"192x192", "512x512"}
    for icon in manifest["icons"]:
        response = client.get(icon["src"])
        response.close()
        assert response.status_code == 200


def test_the_carried_question_already_has_its_articles_beside_it(app, client):
    with app.app_context():
        user = make_user(org=make_org())
    sign_in(client, user)
    page = client.get("/requests/new?title=не приходит код двухфакторной").get_data(as_text=True)
    assert "dvuhfaktornaya" in page  # the panel lists the articles without any typing
