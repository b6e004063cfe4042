"""Accounts under attack: redirects off the site, telling which addresses have accounts,
look-alike addresses, and filing before the address is confirmed."""

import datetime as dt
import re
import statistics
import time
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from portal.accounts import services
from portal.accounts.addresses import mixes_scripts, normalise_email, skeleton
from portal.accounts.models import User
from portal.api_v1.services import issue_token
from portal.clock import utcnow
from portal.extensions import db, limiter
from portal.outbox.models import OutboxMessage
from portal.tickets.models import Ticket
from tests.factories import CSRF_INPUT, PASSWORD, csrf_token, make_user, sign_in

OFF_SITE = [
    "////evil.example",
    "////evil.example/phish",
    "/\\evil.example",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "https://evil.example",
    "/%09/evil.example",
    "javascript:alert(1)",
    " //evil.example",
    "/\t/evil.example",
    "//evil.example",
    "/\\/evil.example",
    "/%5C%5Cevil.example",
    "/%252F%252Fevil.example",
    "/\r\nSet-Cookie: x=1",
]


def test_the_reported_payload_no_longer_leaves_the_site(app, client):
    with app.app_context():
        user = make_user()
    token = csrf_token(client, "/signin?next=%2F%2F%2F%2Fevil.example%2Fphish")
    response = client.post(
        "/signin?next=%2F%2F%2F%2Fevil.example%2Fphish",
        data={"csrf_token": token, "email": user.email, "password": PASSWORD},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"


@pytest.mark.parametrize("target", OFF_SITE)
def test_sign_in_never_redirects_off_the_site(app, client, target):
    with app.app_context():
        user = make_user()
    url = "/signin?next=" + quote(target, safe="")
    response = client.post(
        url, data={"csrf_token": csrf_token(client, url), "email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"


def switch_language(client, method: str, target: str):
    """The header's switch asks with GET; a POST (with its token) is answered alike."""
    if method == "GET":
        return client.get("/language", query_string={"lang": "en", "next": target})
    token = csrf_token(client, "/signin")
    return client.post("/language", data={"csrf_token": token, "lang": "en", "next": target})


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("target", OFF_SITE)
def test_the_language_switch_never_redirects_off_the_site(client, target, method):
    response = switch_language(client, method, target)
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_local_targets_still_work(app, client):
    target = "/search?q=%D0%BF%D0%B0%D1%80%D0%BE%D0%BB%D1%8C&page=2"
    for method in ("GET", "POST"):
        assert switch_language(client, method, target).headers["Location"] == target
    with app.app_context():
        user = make_user()
    url = "/signin?next=" + quote("/requests?status=open", safe="")
    response = client.post(
        url, data={"csrf_token": csrf_token(client, url), "email": user.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/requests?status=open"


def _sign_in_page(client, email, password):
    token = csrf_token(client, "/signin")
    response = client.post(
        "/signin", data={"csrf_token": token, "email": email, "password": password}
    )
    body = response.get_data(as_text=True).replace(email, "EMAIL")
    # The form's token (the same for both answers: one session) is masked.
    token = CSRF_INPUT.search(body).group(1)
    return response.status_code, body.replace(token, "TOKEN")


def test_unknown_address_and_wrong_password_get_the_same_answer_and_lock_out(app, client):
    with app.app_context():
        user = make_user(email="real@example.com")
    answers = {
        email: [_sign_in_page(client, email, "wrong password") for _ in range(6)]
        for email in ("real@example.com", "nobody@example.com")
    }
    assert answers["real@example.com"] == answers["nobody@example.com"]
    assert all(status == 200 for status, _body in answers["real@example.com"])
    # The fifth failure locked the real address: the right password is refused alike.
    assert _sign_in_page(client, user.email, PASSWORD) == answers["real@example.com"][0]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_an_unknown_address_costs_a_password_check_too(app):
    """Not milliseconds: an unknown address must cost about what a wrong password does."""
    with app.app_context():
        make_user(email="timed@example.com")

        def cost(email):
            runs = []
            for n in range(3):
                start = time.perf_counter()
                with pytest.raises(services.AccountError):
                    services.authenticate(email, f"wrong {n}")
                runs.append(time.perf_counter() - start)
            return statistics.median(runs)

        unknown, known = cost("ghost@example.com"), cost("timed@example.com")
    assert unknown > known * 0.4, (unknown, known)


def test_lock_out_lifts_with_a_password_reset(app, client):
    with app.app_context():
        user = make_user(email="locked@example.com")
        for _ in range(5):
            with pytest.raises(services.AccountError):
                services.authenticate(user.email, "wrong")
        with pytest.raises(services.AccountError):
            services.authenticate(user.email, PASSWORD)
        token = services.reset_token(user)
        services.reset_password(token, "another long one")
        assert services.authenticate("LOCKED@example.com", "another long one").id == user.id


def test_old_failures_are_forgotten_and_a_lock_runs_out(app):
    with app.app_context():
        user = make_user(email="slow@example.com")
        start = utcnow()
        for minute in range(4):
            with pytest.raises(services.AccountError):
                services.authenticate(user.email, "wrong", now=start + dt.timedelta(minutes=minute))
        later = start + dt.timedelta(minutes=40)
        with pytest.raises(services.AccountError):
            services.authenticate(user.email, "wrong", now=later)  # counts as the first again
        assert services.authenticate(user.email, PASSWORD, now=later).id == user.id
        for _ in range(5):
            with pytest.raises(services.AccountError):
                services.authenticate(user.email, "wrong", now=later)
        with pytest.raises(services.AccountError):
            services.authenticate(user.email, PASSWORD, now=later + dt.timedelta(minutes=14))
        after = later + dt.timedelta(minutes=16)
        assert services.authenticate(user.email, PASSWORD, now=after).id == user.id


def _sign_up(client, email, name="Someone", password="long enough pw"):
    token = csrf_token(client, "/signup")
    data = {"csrf_token": token, "name": name, "email": email}
    data.update(password=password, confirm=password)
    return client.post("/signup", data=data)


def test_sign_up_answers_the_same_for_a_known_address_and_warns_its_owner(app, client):
    with app.app_context():
        owner = make_user(email="taken@example.com")
    known = _sign_up(client, "TAKEN@example.com")
    new = _sign_up(client, "fresh@example.com")
    assert (known.status_code, known.headers["Location"]) == (302, "/signup/sent")
    assert (new.status_code, new.headers["Location"]) == (302, "/signup/sent")
    with app.app_context():
        mails = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [(m.recipient, m.kind) for m in mails] == [
            ("taken@example.com", "signup_attempt"),
            ("fresh@example.com", "confirm_email"),
        ]
        assert "/signin" in mails[0].body_text and "/password/reset" in mails[0].body_text
        assert db.session.get(User, owner.id).password_hash == owner.password_hash
        assert db.session.scalar(select(func.count()).select_from(User)) == 2


def test_signing_up_again_before_confirming_sends_the_link_again(app, client):
    _sign_up(client, "twice@example.com")
    again = _sign_up(client, "Twice@Example.com")
    assert again.headers["Location"] == "/signup/sent"
    with app.app_context():
        kinds = db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
        assert kinds == ["confirm_email", "confirm_email"]
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_full_width_and_case_variants_are_the_same_account(app, client):
    with app.app_context():
        make_user(email="demo@demo.example.com")
    response = _sign_up(client, "ｄｅｍｏ@demo.example.com")
    assert response.headers["Location"] == "/signup/sent"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
        mail = db.session.scalar(select(OutboxMessage))
        assert (mail.recipient, mail.kind) == ("demo@demo.example.com", "signup_attempt")
    user = type("Typed", (), {"email": "ＤＥＭＯ@Demo.Example.com"})
    assert sign_in(client, user).status_code == 302  # signs in to the one account


@pytest.mark.parametrize(
    "address",
    [
        "dеmo@demo.example.com",  # Cyrillic е
        "dемо@demo.example.com",  # Latin d, Cyrillic емо
        "demo@dеmo.example.com",  # Cyrillic е in the domain
        "ԁеmо@demo.example.com",  # Cyrillic ԁ, е, о
        "dεmο@demo.example.com",  # Greek ε, ο
    ],
)
def test_look_alike_addresses_are_refused_with_a_clear_message(app, client, address):
    with app.app_context():
        make_user(email="demo@demo.example.com")
    response = _sign_up(client, address)
    assert response.status_code == 200
    assert "латинскими буквами" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
        assert db.session.scalar(select(OutboxMessage)) is None


def test_a_mailbox_name_in_another_alphabet_is_refused_whoever_exists(app, client):
    """Our letters cannot reach `демо@…` (no SMTPUTF8), so it is refused, with or without
    a look-alike account; a Cyrillic domain is fine."""
    with app.app_context():
        make_user(email="demo@demo.example.com")
    assert _sign_up(client, "демо@demo.example.com").status_code == 200
    assert _sign_up(client, "демо@nobody.example.com").status_code == 200
    assert _sign_up(client, "dmitry.2@demo.example.com").headers["Location"] == "/signup/sent"
    assert _sign_up(client, "dmitry@почта.рф").headers["Location"] == "/signup/sent"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 3


def test_addresses_are_normalised_in_one_way():
    assert normalise_email("  Ｍaria@Ｅxample.COM ") == "maria@example.com"
    assert normalise_email("a@ДЕМО.рф") == "a@xn--d1acvi.xn--p1ai"
    assert skeleton("dеmo@demo.example.com") == skeleton("demo@demo.example.com")
    assert skeleton("a@xn--d1acvi.xn--p1ai") == skeleton("a@демо.рф")
    assert mixes_scripts("dеmo@x.ru") and not mixes_scripts("демо@x.ru")
    assert not mixes_scripts("ivan.petrov-2@x.ru")


def _confirm_link(app, recipient) -> str:
    with app.app_context():
        mail = db.session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "confirm_email", OutboxMessage.recipient == recipient)
            .order_by(OutboxMessage.id.desc())
        )
        return re.search(r"http://\S+?(/account/confirm/\S+)", mail.body_text).group(1)


def _signed_up_customer(app, client, email="new@example.com"):
    _sign_up(client, email)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
    sign_in(client, user, "long enough pw")
    return user


def test_an_unconfirmed_customer_reads_but_cannot_file_until_confirmed(app, client):
    user = _signed_up_customer(app, client)
    assert client.get("/requests").status_code == 200
    token = csrf_token(client, "/requests/new")
    start = client.post(
        "/requests/new",
        data={"csrf_token": token, "title": "Не работает импорт сделок", "category": "crm"},
    )
    draft = re.search(r"/requests/drafts/([^/]+)/", start.headers["Location"]).group(1)
    describe = f"/requests/drafts/{draft}/description"
    client.post(
        describe,
        data={
            "csrf_token": csrf_token(client, describe),
            "description": "Импорт из CSV останавливается на второй строке.",
            "criticality": "normal",
        },
    )
    preview = f"/requests/drafts/{draft}/preview"
    submit = f"/requests/drafts/{draft}/submit"
    response = client.post(submit, data={"csrf_token": csrf_token(client, preview)})
    assert response.status_code == 302 and response.headers["Location"] == "/account/confirm"
    page = client.get("/account/confirm").get_data(as_text=True)
    assert "Подтвердите адрес" in page and "Отправить ссылку ещё раз" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0
    client.get(_confirm_link(app, user.email))
    response = client.post(submit, data={"csrf_token": csrf_token(client, preview)})
    assert response.status_code == 302 and "/requests/20" in response.headers["Location"]


def test_the_api_refuses_filing_for_an_unconfirmed_customer(app, client):
    user = _signed_up_customer(app, client)
    with app.app_context():
        secret = issue_token(db.session.get(User, user.id), "script")[1]
    body = {
        "title": "Не работает импорт",
        "description": "Импорт из CSV падает.",
        "category": "crm",
    }
    response = client.post(
        "/api/v1/tickets", json=body, headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "email_unconfirmed" and "/account/confirm" in error["message"]
    client.get(_confirm_link(app, user.email))
    response = client.post(
        "/api/v1/tickets", json=body, headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 201


def test_the_confirmation_link_can_be_sent_again_a_few_times_an_hour(app, client):
    user = _signed_up_customer(app, client, "again@example.com")
    app.config["PORTAL_RATE_LIMITS"] = True
    try:
        with app.app_context():
            limiter.reset()
        statuses = [
            client.post(
                "/account/confirm/resend",
                data={"csrf_token": csrf_token(client, "/account/confirm")},
            ).status_code
            for _ in range(4)
        ]
    finally:
        app.config["PORTAL_RATE_LIMITS"] = False
        with app.app_context():
            limiter.reset()
    assert statuses == [302, 302, 302, 429]
    with app.app_context():
        sent = db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.recipient == user.email, OutboxMessage.kind == "confirm_email")
        )
    assert sent == 4  # the one at sign-up and three more


def test_forged_or_foreign_confirmation_links_confirm_nothing(app, client):
    user = _signed_up_customer(app, client, "first@example.com")
    link = _confirm_link(app, user.email)
    assert client.get("/account/confirm/forged").status_code == 302
    assert client.get(link[:-3] + "abc").status_code == 302
    with app.app_context():
        assert db.session.get(User, user.id).email_confirmed_at is None
    page = client.get(link, follow_redirects=True).get_data(as_text=True)
    assert "Адрес e-mail подтверждён" in page


def test_accounts_made_by_staff_or_demo_are_confirmed(app, portal_cli):
    result = portal_cli("demo")
    assert result.exit_code == 0, result.output
    with app.app_context():
        users = db.session.scalars(select(User)).all()
        assert users and all(u.email_confirmed for u in users)
        assert services.authenticate("demo@demo.example.com", "demo-password")


def test_a_look_alike_signup_reveals_nothing_about_existing_accounts(client, app):
    """All-Cyrillic `сое@` beside a real `coe@` once answered differently from the same
    spelling where no account exists: an oracle for which addresses have accounts."""
    with app.app_context():
        make_user(email="coe@victim.example")
        db.session.commit()
    answers = []
    for domain in ("victim.example", "nobody.example"):
        response = client.post(
            "/signup",
            data={
                "csrf_token": csrf_token(client, "/signup"),
                "email": f"сое@{domain}",
                "name": "Eve",
                "password": "long-enough-password",
                "confirm": "long-enough-password",
            },
        )
        answers.append((response.status_code, "латинскими" in response.get_data(as_text=True)))
    assert answers[0] == answers[1] == (200, True)
