import os
import re
import time

import pytest
from sqlalchemy import select

from portal import create_app
from portal.accounts.models import User
from portal.config import PROJECT_ROOT
from portal.extensions import db, limiter
from portal.tickets.attachments import store
from portal.tickets.conversation import post_reply
from portal.tickets.models import Attachment
from portal.tickets.services import NewTicket, file_ticket
from portal.wizard.models import Draft
from tests.factories import csrf_token, make_org, make_user, sign_in


def test_every_page_carries_the_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_templates_hold_no_inline_script():
    for path in (PROJECT_ROOT / "templates").rglob("*.html"):
        text = path.read_text("utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), path
        assert not re.search(r"\son[a-z]+=", text), path


def test_session_cookies_are_httponly_lax_and_secure_behind_https(database_url, tmp_path):
    app = create_app(
        {
            "PORTAL_DATABASE_URL": database_url,
            "PORTAL_SECRET_KEY": "x",
            "PORTAL_INSTANCE_DIR": str(tmp_path),
            "PORTAL_RATE_LIMITS": False,
            "PORTAL_BASE_URL": "https://support.example.com",
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    response = app.test_client().get("/", base_url="https://support.example.com")
    assert "max-age" in response.headers["Strict-Transport-Security"]
    with app.app_context():
        db.engine.dispose()


def test_sign_in_is_rate_limited_with_a_clear_message(app, client):
    # Uses the suite's limiter storage: memory, or Redis when PORTAL_REDIS_URL is set (CI).
    app.config["PORTAL_RATE_LIMITS"] = True
    address = f"10.{os.getpid() % 250}.{int(time.time()) % 250}.7"  # a fresh client per run
    try:
        statuses = []
        for _ in range(12):
            token = csrf_token(client, "/signin")
            response = client.post(
                "/signin",
                data={"csrf_token": token, "email": "x@example.com", "password": "wrong"},
                environ_base={"REMOTE_ADDR": address},
            )
            statuses.append(response.status_code)
        assert statuses[:10] == [200] * 10 and statuses[-1] == 429
        assert "Слишком много" in response.get_data(as_text=True)
        api = client.get("/api/search?q=x", environ_base={"REMOTE_ADDR": address})
        assert api.status_code == 200  # other endpoints have their own budget
    finally:
        app.config["PORTAL_RATE_LIMITS"] = False
        with app.app_context():
            limiter.reset()


XSS = [
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    '<svg onload="alert(1)"></svg>',
    '<img src=x onerror="alert(1)">',
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
]


@pytest.mark.parametrize("attack", XSS)
def test_stored_xss_is_neutralised_in_titles_messages_and_file_names(app, client, attack):
    with app.app_context():
        customer = make_user(name=attack[:60])
        agent = make_user("agent")
        ticket = file_ticket(
            NewTicket(
                author=customer,
                title=f"Тема {attack}"[:200],
                description=f"Описание {attack}",
                category="general",
            )
        )
        post_reply(ticket, db.session.get(User, agent.id), f"Ответ {attack}")
        number = ticket.number
    sign_in(client, customer)
    for url in (f"/requests/{number}", "/requests"):
        page = client.get(url).get_data(as_text=True).lower()
        # Text that merely mentions them is fine (escaped); markup that would run is not.
        for bad in (
            "<script>alert",
            'href="javascript:',
            "<svg",
            'onload="alert',
            'onerror="alert',
            'href="data:',
        ):
            assert bad not in page, (url, bad)


# --- Authorisation, route by route ------------------------------------------------------

ROLES = ("anonymous", "owner", "colleague", "other_org", "agent", "editor", "admin")


@pytest.fixture
def world(app):
    with app.app_context():
        org, other = make_org("commercial"), make_org("partner")
        people = {
            "owner": make_user(org=org),
            "colleague": make_user(org=org),
            "other_org": make_user(org=other),
            "agent": make_user("agent"),
            "editor": make_user("editor"),
            "admin": make_user("admin"),
        }
        owner = people["owner"]
        upload = store("log.txt", b"line\n")
        ticket = file_ticket(
            NewTicket(
                author=owner,
                title="Секрет владельца",
                category="general",
                description="Тайное описание",
                attachments=[upload],
            )
        )
        draft = Draft(
            token="secret-draft-token",
            user_id=owner.id,
            title="Черновик",
            category="general",
            description="x",
        )
        db.session.add(draft)
        db.session.commit()
        attachment = db.session.scalar(select(Attachment))
        return {"people": people, "number": ticket.number, "attachment": attachment.id}


def _urls(app, world) -> list[str]:
    """A concrete URL for every GET route of the app, filled with the owner's objects."""
    values = {
        "number": world["number"],
        "attachment_id": world["attachment"],
        "token": "secret-draft-token",
        "slug": "kak-podat-obrashchenie",
        "step": "subject",
        "file_id": 1,
        "org_id": 1,
        "user_id": 1,
        "answer_id": 1,
        "revision_id": 1,
        "table": "gaps",
        "path": "x.png",
        "filename": "css/portal.css",
        "message_id": 1,
    }
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        try:
            urls.append(rule.build(values, append_unknown=False)[1])
        except Exception:  # noqa: BLE001 - a rule we cannot fill is reported below
            pytest.fail(f"no value for a parameter of {rule.rule}")
    return urls


PRIVATE = ("/requests/20", "/attachments/", "/api/tickets/", "/requests/drafts/")


def test_every_route_answers_each_role_as_it_should(app, client, world):
    urls = _urls(app, world)
    assert any(u.startswith("/requests/20") for u in urls)
    for role in ROLES:
        client.post("/signout", data={"csrf_token": csrf_token(client, "/signin")})
        if role != "anonymous":
            sign_in(client, world["people"][role])
        for url in urls:
            response = client.get(url)
            status = response.status_code
            body = response.get_data(as_text=True) if status == 200 else ""
            response.close()
            assert status < 500, (role, url, status)
            sees_ticket = status == 200 and (
                "Тайное описание" in body or "Секрет" in body or url.startswith("/attachments/")
            )
            if url.startswith(PRIVATE) and not url.startswith("/requests/drafts/"):
                allowed = role in ("owner", "colleague_admin", "agent", "admin")
                assert sees_ticket == allowed or (status != 200 and not allowed), (role, url)
            if url.startswith("/requests/drafts/") and role != "owner":
                assert status in (302, 404), (role, url, status)  # sign-in, or no such draft
            if url.startswith("/agent/"):
                assert (status == 200) == (role in ("agent", "admin")) or status == 404, (role, url)
            if url.startswith("/admin/"):
                assert (status == 200) == (role == "admin") or status == 404, (role, url)
            if url.startswith("/editor/"):
                assert (status == 200) == (role in ("agent", "editor", "admin")) or status == 404, (
                    role,
                    url,
                )


def test_ticket_numbers_cannot_be_guessed_into_someone_elses_data(app, client, world):
    sign_in(client, world["people"]["other_org"])
    number = world["number"]
    year, seq = number.split("-")
    for guess in (number, f"{year}-{int(seq) + 1:06d}", f"{year}-000000"):
        for url in (f"/requests/{guess}", f"/api/tickets/{guess}", f"/requests/{guess}/updates"):
            assert client.get(url).status_code == 404
    assert client.get(f"/attachments/{world['attachment']}").status_code == 404
    token = csrf_token(client, "/signin")
    for action in ("reply", "close", "rate", "reopen"):
        response = client.post(
            f"/requests/{number}/{action}", data={"csrf_token": token, "body": "x", "score": "5"}
        )
        assert response.status_code == 404, action
