import json

import pytest
from sqlalchemy import func, select

from portal.analytics.models import Event
from portal.extensions import db
from portal.kb.models import ArticleVote
from tests.factories import csrf_token


def test_home_shows_search_categories_and_popular_articles(client):
    page = client.get("/").get_data(as_text=True)
    assert 'role="search"' in page
    assert "Как работает техподдержка" in page
    assert "Популярные статьи" in page
    assert 'lang="ru"' in page


def test_search_page_finds_and_marks_words(client):
    page = client.get("/search", query_string={"q": "как подать обращение"}).get_data(as_text=True)
    assert "/kb/kak-podat-obrashchenie" in page
    assert "<mark>" in page


def test_search_with_a_typo_offers_the_correction(client):
    page = client.get("/search", query_string={"q": "пароьл"}).get_data(as_text=True)
    assert "пароль" in page and "did-you-mean" in page


@pytest.mark.parametrize(
    "params",
    [
        {"q": ""},
        {"q": '"unbalanced'},
        {"q": "AND OR NOT"},
        {"q": "*"},
        {"q": "x" * 10_000},
        {"q": "\x00\x07"},
        {"q": "mixed скрипт 混合"},
        {"q": "обращение", "page": "abc"},
        {"q": "обращение", "page": "-5"},
        {"q": "обращение", "page": "99999"},
        {"q": "обращение", "lang": "de"},
        {"q": "обращение", "category": "c" * 500},
        {"q": "<script>alert(1)</script>"},
    ],
)
def test_any_search_gets_a_page_never_an_error(client, params):
    response = client.get("/search", query_string=params)
    assert response.status_code == 200
    assert "<script>alert" not in response.get_data(as_text=True)


def test_nothing_found_says_so(client):
    page = client.get("/search", query_string={"q": "qzxwvj"}).get_data(as_text=True)
    assert "Ничего не найдено" in page


def test_searches_are_recorded_without_who_searched(app, client):
    client.get("/search", query_string={"q": "  Пароль   ЗАБЫЛ "})
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.kind == "search"))
        assert event.query == "пароль забыл"
        assert event.results > 0
        assert event.data is None


def test_article_page_has_toc_translation_and_related(client):
    page = client.get("/kb/urovni-podderzhki-i-sroki-otveta").get_data(as_text=True)
    assert "<table>" in page
    assert 'class="toc"' in page
    assert 'hreflang="en"' in page
    assert "Похожие статьи" in page


def test_unknown_article_and_category_are_404_pages(client):
    for url in ("/kb/no-such-article", "/kb/category/nope", "/nowhere"):
        response = client.get(url)
        assert response.status_code == 404
        assert "Страница не найдена" in response.get_data(as_text=True)


def test_category_page_lists_its_articles_in_the_chosen_language(client):
    page = client.get("/kb/category/crm").get_data(as_text=True)
    assert "/kb/konvertaciya-lida-v-sdelku" in page
    page = client.get("/kb/category/crm?lang=en").get_data(as_text=True)
    assert "/kb/convert-a-lead-to-a-deal" in page


def test_one_vote_per_visitor_and_a_comment_on_no(app, client):
    url = "/kb/kak-podat-obrashchenie"
    token = csrf_token(client, url)
    client.post(f"{url}/vote", data={"csrf_token": token, "helpful": "yes"})
    response = client.post(f"{url}/vote", data={"csrf_token": token, "helpful": "no"})
    assert "feedback=1" in response.headers["Location"]
    page = client.get(url + "?feedback=1").get_data(as_text=True)
    assert 'name="comment"' in page
    client.post(
        f"{url}/vote", data={"csrf_token": token, "helpful": "no", "comment": "Нет примера"}
    )
    with app.app_context():
        votes = db.session.scalars(select(ArticleVote)).all()
        assert [(v.helpful, v.comment) for v in votes] == [(False, "Нет примера")]


def test_a_vote_without_csrf_token_is_refused(app, client):
    response = client.post("/kb/kak-podat-obrashchenie/vote", data={"helpful": "yes"})
    assert response.status_code == 400
    assert "Форма устарела" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ArticleVote)) == 0


def test_voting_on_an_unknown_article_is_404(client):
    token = csrf_token(client, "/kb/kak-podat-obrashchenie")
    response = client.post("/kb/nope/vote", data={"csrf_token": token, "helpful": "yes"})
    assert response.status_code == 404


def test_language_switch_is_remembered(client):
    token = csrf_token(client, "/signin")
    response = client.post(
        "/language", data={"csrf_token": token, "lang": "en", "next": "/search?q=x"}
    )
    assert response.headers["Location"] == "/search?q=x"
    page = client.get("/").get_data(as_text=True)
    assert "How can we help?" in page and 'lang="en"' in page


def test_language_switch_never_redirects_off_site(client):
    token = csrf_token(client, "/signin")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post(
            "/language", data={"csrf_token": token, "lang": "en", "next": target}
        )
        assert response.headers["Location"] == "/"


def test_article_view_counts_make_it_popular(client):
    for _ in range(3):
        client.get("/kb/kupony-i-speczaprosy")
    page = client.get("/").get_data(as_text=True)
    popular = page.split("Популярные статьи", 1)[1]
    assert popular.index("/kb/kupony-i-speczaprosy") < popular.index("</ul>")


def test_api_search_returns_the_documented_shape(client):
    data = client.get("/api/search", query_string={"q": "купон", "limit": 3}).get_json()
    assert set(data) == {"query", "results", "total", "suggestion"}
    first = data["results"][0]
    assert set(first) == {"slug", "title", "url", "snippet", "category", "lang", "score"}
    assert first["url"] == f"/kb/{first['slug']}"
    assert len(data["results"]) <= 3


def test_api_suggest_completes_the_last_word(client):
    data = client.get("/api/suggest", query_string={"q": "двухфакт", "lang": "ru"}).get_json()
    assert data["results"]
    assert data["results"][0]["slug"] == "dvuhfaktornaya-avtorizaciya-otp-poterya-telefona"
    assert len(data["results"]) <= 5


@pytest.mark.parametrize("url", ["/api/suggest?q=двухфакт", "/api/search?q=купон"])
def test_a_repeated_answer_is_revalidated_not_recomputed(client, url):
    first = client.get(url)
    tag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache" and "Cookie" in first.headers["Vary"]
    again = client.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == tag
    # Another question, another interface language: another answer.
    assert client.get(url + "а", headers={"If-None-Match": tag}).status_code == 200
    client.set_cookie("portal_lang", "en")
    assert client.get(url, headers={"If-None-Match": tag}).status_code == 200


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/search?q=x&limit=0", "limit"),
        ("/api/search?q=x&page=abc", "page"),
        ("/api/search?q=x&lang=de", "lang"),
        ("/api/suggest?q=x&limit=100", "limit"),
    ],
)
def test_api_bad_parameters_get_a_json_error(client, url, field):
    response = client.get(url)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_parameter" and field in error["fields"]


@pytest.mark.parametrize("q", ["", "*", '"', "NOT", "x" * 10_000])
def test_api_handles_any_query(client, q):
    for url in ("/api/search", "/api/suggest"):
        response = client.get(url, query_string={"q": q})
        assert response.status_code == 200
        assert response.get_json()["total"] >= 0


def test_cli_search_prints_the_api_json(portal_cli):
    result = portal_cli("search", "купон", "--lang", "ru", "--limit", "2", "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["results"][0]["slug"] == "kupony-i-speczaprosy"
    assert len(data["results"]) <= 2


def test_cli_index_reports_problems_with_file_and_line(portal_cli, app):
    articles = app.config["PORTAL_ARTICLES_DIR"]
    bad = articles / "support" / "zz-broken.ru.md"
    bad.write_text("---\ntitle: x\nslug: BAD SLUG\n---\n", encoding="utf-8")
    try:
        result = portal_cli("index", "--changed")
    finally:
        bad.unlink()
    assert result.exit_code == 0
    assert "support/zz-broken.ru.md:1: missing front matter field(s)" in result.output
    assert "1 problem(s)" in result.output


@pytest.mark.parametrize("url", ["/", "/search?q=купон", "/search?q=", "/api/suggest?q=куп"])
def test_pages_a_visitor_only_reads_set_no_cookie(app, url):
    response = app.test_client().get(url)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert 'name="csrf-token"' not in response.get_data(as_text=True)


def test_a_visitors_repeated_search_page_is_revalidated(app):
    visitor = app.test_client()
    first = visitor.get("/search?q=купон")
    tag = first.headers["ETag"]
    again = visitor.get("/search?q=купон", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b""
    assert visitor.get("/search?q=купоны", headers={"If-None-Match": tag}).status_code == 200


def test_the_language_switch_asks_with_get_and_keeps_the_page(app):
    visitor = app.test_client()
    response = visitor.get("/language?lang=en&next=/search%3Fq%3Dx")
    assert response.status_code == 302 and response.headers["Location"] == "/search?q=x"
    assert "portal_lang=en" in response.headers["Set-Cookie"]
    assert "Search" in visitor.get("/search?q=x").get_data(as_text=True)
    # A foreign target is refused as before, and a wrong language changes nothing.
    response = visitor.get("/language?lang=de&next=https://evil.example/")
    assert response.headers["Location"] == "/" and "Set-Cookie" not in response.headers
