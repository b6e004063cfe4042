"""Search learns from outcomes: helpful votes after a search and requests ended by an
article teach a phrase once enough distinct sessions agree; editors review and remove."""

import re

import pytest
from sqlalchemy import select, text

from portal.extensions import db, limiter
from portal.kb.learning import learned_phrases, learned_version
from portal.kb.models import LearnedPhrase, LearnedSighting
from tests.factories import csrf_token, make_org, make_user, sign_in

SLUG = "podklyuchenie-pochtovogo-yashchika-imap-smtp"
OTHER = "connect-mailbox-imap-smtp-app-passwords"
QUERY = "Не  приходит почта   IMAP"
PHRASE = "не приходит почта imap"


def search_and_vote(client, query=QUERY, slug=SLUG, helpful="yes"):
    """Open an article from the search results, then vote on it as a reader does."""
    page = f"/kb/{slug}?from_search={query}"
    response = client.post(
        f"/kb/{slug}/vote", data={"csrf_token": csrf_token(client, page), "helpful": helpful}
    )
    assert response.status_code == 302
    return response


def phrases(app, slug=SLUG):
    with app.app_context():
        rows = db.session.scalars(select(LearnedPhrase).filter_by(article_slug=slug)).all()
        return {row.phrase: (row.sessions, row.status) for row in rows}


def version(app):
    with app.app_context():
        return learned_version(db.session)


def deflect(client, title, description=None):
    """A customer drafts a request and ends it with "This solved my problem"."""
    token = csrf_token(client, "/requests/new")
    response = client.post(
        "/requests/new", data={"csrf_token": token, "title": title, "category": "mail"}
    )
    draft = re.search(r"/requests/drafts/([^/]+)/", response.headers["Location"]).group(1)
    if description:
        url = f"/requests/drafts/{draft}/description"
        client.post(
            url,
            data={
                "csrf_token": csrf_token(client, url),
                "description": description,
                "criticality": "normal",
                "coupon": "",
            },
        )
    response = client.post(
        f"/requests/drafts/{draft}/deflect",
        data={"csrf_token": csrf_token(client, "/requests/new"), "slug": SLUG},
    )
    assert "/requests/solved/" in response.headers["Location"]


def signed_in(app, role="customer"):
    client = app.test_client()
    with app.app_context():
        user = make_user(role, org=make_org("commercial") if role == "customer" else None)
    sign_in(client, user)
    return client


def test_three_distinct_sessions_make_a_phrase_active(app):
    before = version(app)
    for n in range(3):
        search_and_vote(app.test_client())
        expected = "active" if n == 2 else "candidate"
        assert phrases(app) == {PHRASE: (n + 1, expected)}
    with app.app_context():
        assert learned_phrases(db.session) == [(SLUG, "ru", PHRASE)]
    assert version(app) != before


def test_one_session_ten_times_teaches_nothing(app):
    client = app.test_client()
    for _ in range(10):
        search_and_vote(client)
    assert phrases(app) == {PHRASE: (1, "candidate")}
    with app.app_context():
        assert learned_phrases(db.session) == []


def test_one_account_counts_once_from_several_browsers(app):
    with app.app_context():
        user = make_user(org=make_org("commercial"))
    for _ in range(3):
        client = app.test_client()
        sign_in(client, user)
        search_and_vote(client)
    assert phrases(app) == {PHRASE: (1, "candidate")}


@pytest.mark.parametrize("role", ["agent", "editor", "admin"])
def test_staff_teach_nothing(app, role):
    for _ in range(3):
        search_and_vote(signed_in(app, role))
    assert phrases(app) == {}


def test_only_a_helpful_vote_after_opening_that_article_from_a_search_counts(app):
    search_and_vote(app.test_client(), helpful="no")
    client = app.test_client()
    client.get(f"/kb/{OTHER}?from_search={QUERY}")  # a search that led elsewhere
    client.post(
        f"/kb/{SLUG}/vote", data={"csrf_token": csrf_token(client, f"/kb/{SLUG}"), "helpful": "yes"}
    )
    assert phrases(app) == {}
    assert phrases(app, OTHER) == {}


@pytest.mark.parametrize(
    "query",
    [
        "почта ivan.petrov@example.com не приходит",
        "перезвоните +7 (916) 123-45-67",
        "заявка 2026-000123 не решена",
        "не открывается https://shop.example.org/crm",
        "сайт mycompany.ru не работает",
    ],
)
def test_phrases_with_personal_data_are_refused(app, query):
    for _ in range(3):
        search_and_vote(app.test_client(), query=query)
    with app.app_context():
        assert db.session.scalars(select(LearnedPhrase)).all() == []
        assert db.session.scalars(select(LearnedSighting)).all() == []


def test_a_request_solved_by_an_article_teaches_its_title_and_first_sentence(app):
    for _ in range(3):
        deflect(
            signed_in(app),
            "Не приходят письма в почтовый ящик",
            "Здравствуйте! Письма перестали приходить. Вчера всё работало, сегодня пусто.",
        )
    assert phrases(app) == {
        "не приходят письма в почтовый ящик": (3, "active"),
        "письма перестали приходить": (3, "active"),
    }


def test_a_staff_members_request_teaches_nothing(app):
    for _ in range(3):
        deflect(signed_in(app, "agent"), "Не приходят письма в почтовый ящик")
    assert phrases(app) == {}


def test_a_rate_limited_client_teaches_nothing(app):
    client = app.test_client()
    client.get(f"/kb/{SLUG}?from_search={QUERY}")
    token = csrf_token(client, f"/kb/{SLUG}")
    app.config["PORTAL_RATE_LIMITS"] = True
    try:
        codes = {
            client.post(f"/kb/{SLUG}/vote", data={"csrf_token": token, "helpful": "no"}).status_code
            for _ in range(21)
        }
    finally:
        app.config["PORTAL_RATE_LIMITS"] = False
        limiter.reset()
    assert 429 in codes
    search_and_vote(client)
    assert phrases(app) == {}


def test_editors_see_what_was_learned_and_a_removal_sticks(app):
    for _ in range(3):
        search_and_vote(app.test_client())
    search_and_vote(app.test_client(), query="пароль приложения для почты")
    editor = signed_in(app, "editor")
    page = editor.get(f"/editor/articles/{SLUG}/edit").get_data(as_text=True)
    assert "Выучено у читателей" in page
    assert PHRASE in page and "пароль приложения для почты" in page
    assert "активна" in page and "кандидат" in page

    with app.app_context():
        phrase_id = db.session.scalar(select(LearnedPhrase.id).filter_by(phrase=PHRASE))
    url = f"/editor/articles/{SLUG}/learned/{phrase_id}/remove"
    assert editor.post(url).status_code == 400  # no CSRF token
    before = version(app)
    response = editor.post(url, data={"csrf_token": csrf_token(editor, "/editor/")})
    assert response.status_code == 302
    assert version(app) != before
    for _ in range(4):
        search_and_vote(app.test_client())
    assert phrases(app)[PHRASE] == (3, "removed")
    with app.app_context():
        assert learned_phrases(db.session) == []
    page = editor.get(f"/editor/articles/{SLUG}/edit").get_data(as_text=True)
    assert PHRASE not in page
    again = editor.post(url, data={"csrf_token": csrf_token(editor, "/editor/")})
    assert again.status_code == 404


def test_customers_cannot_remove_a_phrase(app):
    search_and_vote(app.test_client())
    with app.app_context():
        phrase_id = db.session.scalar(select(LearnedPhrase.id))
    customer = signed_in(app)
    url = f"/editor/articles/{SLUG}/learned/{phrase_id}/remove"
    response = customer.post(url, data={"csrf_token": csrf_token(customer, "/")})
    assert response.status_code == 403
    assert phrases(app) == {PHRASE: (1, "candidate")}


def test_no_session_id_or_account_is_stored_in_clear(app):
    visitor = app.test_client()
    search_and_vote(visitor)
    with visitor.session_transaction() as cookie:
        visitor_id = cookie["visitor"]
    customer = signed_in(app)
    search_and_vote(customer)
    with app.app_context():
        for table in ("learned_phrases", "learned_sightings"):
            rows = db.session.execute(text(f"SELECT * FROM {table}")).all()
            assert rows
            stored = " ".join(str(value) for row in rows for value in row)
            assert visitor_id not in stored
            assert "visitor" not in stored and "user:" not in stored
        digests = db.session.scalars(select(LearnedSighting.digest)).all()
        assert len(digests) == 2 and all(re.fullmatch(r"[0-9a-f]{64}", d) for d in digests)
