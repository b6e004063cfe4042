import re
import time

from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from portal.outbox.models import OutboxMessage
from tests.factories import PASSWORD, csrf_token, make_user, sign_in


def _confirm_link(app) -> str:
    with app.app_context():
        mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "confirm_email"))
        return re.search(r"http://\S+/account/confirm/\S+", mail.body_text).group(0)


def test_sign_up_creates_a_noncommercial_customer_who_confirms_by_mail(app, client):
    token = csrf_token(client, "/signup")
    response = client.post(
        "/signup",
        data={
            "csrf_token": token,
            "name": "Мария",
            "email": "Maria@Example.com",
            "password": "long enough pw",
            "confirm": "long enough pw",
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/signup/sent"
    assert "Проверьте почту" in client.get("/signup/sent").get_data(as_text=True)
    with app.app_context():
        user = db.session.scalar(select(User))
        assert (user.email, user.role, user.tier) == (
            "maria@example.com",
            "customer",
            "noncommercial",
        )
        assert user.password_hash.startswith("scrypt:")
        assert user.email_confirmed_at is None
    client.get(_confirm_link(app).split("5000", 1)[1])
    with app.app_context():
        assert db.session.get(User, user.id).email_confirmed
    sign_in(client, user, "long enough pw")
    assert "Мария" in client.get("/").get_data(as_text=True)


def test_sign_up_problems_are_explained(app, client):
    token = csrf_token(client, "/signup")
    page = client.post(
        "/signup",
        data={
            "csrf_token": token,
            "name": "X",
            "email": "new@example.com",
            "password": "short",
            "confirm": "other",
        },
    ).get_data(as_text=True)
    assert 'aria-invalid="true"' in page


def test_wrong_password_then_lockout_with_one_message(app, client):
    with app.app_context():
        user = make_user()
    message = "Неверный e-mail или пароль, или учётная запись временно заблокирована"
    for _ in range(5):
        assert message in sign_in(client, user, "wrong").get_data(as_text=True)
    page = sign_in(client, user, PASSWORD).get_data(as_text=True)  # even the right one
    assert message in page


def test_sign_in_redirects_only_to_local_pages(app, client):
    with app.app_context():
        user = make_user()
    token = csrf_token(client, "/signin")
    response = client.post(
        "/signin?next=https://evil.example/",
        data={"csrf_token": token, "email": user.email, "password": PASSWORD},
    )
    assert response.headers["Location"] == "/"


def test_sign_out_needs_a_post_with_csrf(app, client):
    with app.app_context():
        user = make_user()
    sign_in(client, user)
    assert client.get("/signout").status_code == 405
    token = csrf_token(client, "/signin")
    client.post("/signout", data={"csrf_token": token})
    assert "Войти" in client.get("/").get_data(as_text=True)


def _reset_link(app) -> str:
    with app.app_context():
        mail = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "password_reset")
        )
        return re.search(r"http://\S+/password/reset/\S+", mail.body_text).group(0)


def test_password_reset_by_emailed_token_works_once(app, client):
    with app.app_context():
        user = make_user(email="forgot@example.com")
    token = csrf_token(client, "/password/reset")
    client.post("/password/reset", data={"csrf_token": token, "email": "forgot@example.com"})
    path = _reset_link(app).split("5000", 1)[1]
    token = csrf_token(client, path)
    response = client.post(
        path, data={"csrf_token": token, "password": "brand new pass", "confirm": "brand new pass"}
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, user.id).check_password("brand new pass")
    again = client.get(path)
    assert again.status_code == 302 and "/password/reset" in again.headers["Location"]


def test_reset_for_an_unknown_address_says_the_same_and_sends_nothing(app, client):
    token = csrf_token(client, "/password/reset")
    response = client.post(
        "/password/reset", data={"csrf_token": token, "email": "nobody@example.com"}
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage)) is None


def test_a_forged_or_expired_token_is_refused(app, client):
    response = client.get("/password/reset/not-a-token")
    assert response.status_code == 302
    app.config["PORTAL_RESET_TOKEN_HOURS"] = 0
    try:
        with app.app_context():
            make_user(email="late@example.com")
        token = csrf_token(client, "/password/reset")
        client.post("/password/reset", data={"csrf_token": token, "email": "late@example.com"})
        path = _reset_link(app).split("5000", 1)[1]
        time.sleep(1.1)
        response = client.get(path)
        assert response.status_code == 302
        assert "истек" in client.get(response.headers["Location"]).get_data(as_text=True)
    finally:
        app.config["PORTAL_RESET_TOKEN_HOURS"] = 1
