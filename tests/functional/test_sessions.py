"""Signed-in sessions: old cookies stop working after sign-out, a password reset or "End";
each sign-in has its own remember cookie, good for 30 days; /account/sessions lists them."""

import datetime as dt
import re

from sqlalchemy import select

from portal.accounts import sessions
from portal.accounts.models import User, UserSession
from portal.extensions import db
from portal.outbox.models import OutboxMessage
from tests.factories import PASSWORD, csrf_token, make_user

PRIVATE = "/requests"  # any page that needs a signed-in user
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def sign_in(client, user, remember=False, agent=FIREFOX):
    data = {"csrf_token": csrf_token(client, "/signin"), "email": user.email}
    data["password"] = PASSWORD
    if remember:
        data["remember"] = "y"
    response = client.post("/signin", data=data, headers={"User-Agent": agent})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def cookie(client, name):
    found = client.get_cookie(name)
    return found.value if found is not None else None


def replay(app, **cookies):
    """A fresh browser holding exactly these cookie values."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


def is_signed_out(response) -> bool:
    return response.status_code == 302 and "/signin" in response.headers["Location"]


def sign_out(client):
    client.post("/signout", data={"csrf_token": csrf_token(client, "/signin")})


def test_the_session_cookie_replayed_after_sign_out_is_refused(app, client):
    with app.app_context():
        user = make_user()
    sign_in(client, user)
    old = cookie(client, "session")
    assert client.get(PRIVATE).status_code == 200
    assert replay(app, session=old).get(PRIVATE).status_code == 200  # a copy works before…
    sign_out(client)
    assert is_signed_out(replay(app, session=old).get(PRIVATE))  # …and not after


def test_a_remember_cookie_alone_after_sign_out_does_not_sign_in(app, client):
    with app.app_context():
        user = make_user()
    sign_in(client, user, remember=True)
    remember = cookie(client, "remember_token")
    assert remember and remember.startswith(f"{user.id}:")
    assert replay(app, remember_token=remember).get(PRIVATE).status_code == 200
    sign_out(client)
    assert is_signed_out(replay(app, remember_token=remember).get(PRIVATE))


def test_each_sign_in_has_its_own_remember_cookie_good_for_30_days(app, client):
    with app.app_context():
        user = make_user()
    first = sign_in(client, user, remember=True)
    second_client = app.test_client()
    sign_in(second_client, user, remember=True)
    assert cookie(client, "remember_token") != cookie(second_client, "remember_token")
    header = next(h for h in first.headers.getlist("Set-Cookie") if "remember_token" in h)
    expires = dt.datetime.strptime(
        re.search(r"Expires=([^;]+)", header).group(1), "%a, %d %b %Y %H:%M:%S GMT"
    ).replace(tzinfo=dt.UTC)
    assert dt.timedelta(days=29) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(days=30)


def test_old_cookies_replayed_after_a_password_reset_are_refused(app, client):
    with app.app_context():
        user = make_user(email="reset-me@example.com")
    sign_in(client, user, remember=True)
    old_session, old_remember = cookie(client, "session"), cookie(client, "remember_token")
    other = app.test_client()  # the person resets from another browser
    other.post(
        "/password/reset",
        data={"csrf_token": csrf_token(other, "/password/reset"), "email": user.email},
    )
    with app.app_context():
        mail = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "password_reset")
        )
        path = re.search(r"http://\S+?(/password/reset/\S+)", mail.body_text).group(1)
    response = other.post(
        path,
        data={
            "csrf_token": csrf_token(other, path),
            "password": "a brand new one",
            "confirm": "a brand new one",
        },
    )
    assert response.status_code == 302
    assert is_signed_out(replay(app, session=old_session).get(PRIVATE))
    assert is_signed_out(replay(app, remember_token=old_remember).get(PRIVATE))
    assert is_signed_out(client.get(PRIVATE))  # the browser that still holds them too
    assert other.get(PRIVATE).status_code == 200  # the reset signed this one in anew


def test_the_sessions_page_lists_live_sessions_and_ends_them(app, client):
    with app.app_context():
        user = make_user()
        stranger = make_user()
    phone = app.test_client()
    sign_in(phone, user, agent="Mozilla/5.0 (Linux; Android 14) Chrome/126.0 Mobile Safari/537")
    sign_in(client, user)
    page = client.get("/account/sessions").get_data(as_text=True)
    assert "Firefox · Linux" in page and "Chrome · Android" in page
    assert page.count("Этот сеанс") == 1
    assert 'href="/account/sessions"' in client.get("/").get_data(as_text=True)
    with app.app_context():
        phone_row = db.session.scalar(
            select(UserSession).where(UserSession.user_agent == "Chrome · Android")
        )
        other_row = sessions.live_sessions(db.session.get(User, stranger.id))
    assert other_row == []
    token = csrf_token(client, "/account/sessions")
    assert (
        client.post("/account/sessions/999999/end", data={"csrf_token": token}).status_code == 404
    )
    assert client.post(f"/account/sessions/{phone_row.id}/end").status_code == 400  # no CSRF
    assert phone.get(PRIVATE).status_code == 200
    response = client.post(f"/account/sessions/{phone_row.id}/end", data={"csrf_token": token})
    assert response.status_code == 302
    assert is_signed_out(phone.get(PRIVATE))
    assert client.get(PRIVATE).status_code == 200


def test_a_session_of_another_user_cannot_be_ended(app, client):
    with app.app_context():
        user, stranger = make_user(), make_user()
    theirs = app.test_client()
    sign_in(theirs, stranger)
    sign_in(client, user)
    with app.app_context():
        row = db.session.scalar(select(UserSession).where(UserSession.user_id == stranger.id))
    token = csrf_token(client, "/account/sessions")
    assert (
        client.post(f"/account/sessions/{row.id}/end", data={"csrf_token": token}).status_code
        == 404
    )
    assert theirs.get(PRIVATE).status_code == 200


def test_end_all_other_sessions_keeps_this_one(app, client):
    with app.app_context():
        user = make_user()
    others = [app.test_client() for _ in range(2)]
    for other in others:
        sign_in(other, user, remember=True)
    sign_in(client, user)
    token = csrf_token(client, "/account/sessions")
    page = client.post(
        "/account/sessions/end-others", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Завершено сеансов: 2" in page
    assert all(is_signed_out(other.get(PRIVATE)) for other in others)
    assert client.get(PRIVATE).status_code == 200


def test_ending_this_session_signs_out(app, client):
    with app.app_context():
        user = make_user()
    sign_in(client, user)
    with app.app_context():
        row = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    token = csrf_token(client, "/account/sessions")
    response = client.post(f"/account/sessions/{row.id}/end", data={"csrf_token": token})
    assert "/signin" in response.headers["Location"]
    assert is_signed_out(client.get(PRIVATE))


def test_keys_are_stored_hashed_and_last_seen_is_written_at_most_once_a_minute(app, client):
    with app.app_context():
        user = make_user()
    sign_in(client, user, remember=True)
    key = cookie(client, "remember_token").split("|")[0].partition(":")[2]
    with app.app_context():
        row = db.session.scalar(select(UserSession))
        assert key not in (row.key_hash, row.user_agent) and len(row.key_hash) == 64
        loaded = sessions.user_for_session(f"{user.id}:{key}")
        start = row.last_seen_at
        sessions.note_activity(loaded, now=start + dt.timedelta(seconds=30))
        assert db.session.get(UserSession, row.id).last_seen_at == start
        sessions.note_activity(loaded, now=start + dt.timedelta(seconds=61))
        db.session.expire_all()
        assert db.session.get(UserSession, row.id).last_seen_at > start
        assert sessions.user_for_session(f"{user.id + 1}:{key}") is None  # someone else's id
        assert sessions.user_for_session(str(user.id)) is None  # a bare id, as before
        later = row.created_at + sessions.SESSION_LIFETIME + dt.timedelta(seconds=1)
        assert sessions.user_for_session(f"{user.id}:{key}", now=later) is None


def test_device_and_network_are_summarised():
    assert sessions.device_summary(FIREFOX) == "Firefox · Linux"
    assert sessions.device_summary("") == ""
    assert sessions.ip_prefix("203.0.113.77") == "203.0.113.0/24"
    assert sessions.ip_prefix("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    assert sessions.ip_prefix("not an address") == ""


def test_disabling_an_account_signs_it_out_everywhere(app, client):
    with app.app_context():
        user = make_user()
    sign_in(client, user, remember=True)
    remember = cookie(client, "remember_token")
    with app.app_context():
        db.session.get(User, user.id).active = False
        db.session.commit()
    assert is_signed_out(client.get(PRIVATE))
    assert is_signed_out(replay(app, remember_token=remember).get(PRIVATE))
