import datetime as dt
import re
import shutil

import pytest
from sqlalchemy import select

from portal import create_app
from portal.accounts.models import User
from portal.analytics.models import Event
from portal.editor import revisions, services
from portal.editor.models import ArticleRevision
from portal.extensions import db
from portal.kb.indexing import build_index
from portal.kb.learning import Rules, record_evidence
from portal.kb.models import LearnedPhrase
from portal.tickets.conversation import post_reply, rate, set_status
from portal.tickets.services import NewTicket, file_ticket
from portal.wizard.models import Draft
from tests.conftest import TEST_ARTICLES
from tests.factories import csrf_token, make_org, make_user, sign_in


@pytest.fixture
def app(database_url, tmp_path):
    """An application with its own small knowledge base, which these tests edit."""
    articles, index = tmp_path / "articles", tmp_path / "index"
    shutil.copytree(TEST_ARTICLES, articles)
    build_index(articles, index)
    app = create_app(
        {
            "PORTAL_DATABASE_URL": database_url,
            "PORTAL_ARTICLES_DIR": str(articles),
            "PORTAL_INDEX_DIR": str(index),
            "PORTAL_INSTANCE_DIR": str(tmp_path / "instance"),
            "PORTAL_SECRET_KEY": "test-secret",
            "PORTAL_RATE_LIMITS": False,
            "TESTING": True,
        }
    )
    app.extensions["kb"].index.REFRESH_SECONDS = 0
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def editor(app, client):
    with app.app_context():
        user = make_user("editor")
    sign_in(client, user)
    return user


ARTICLE = {
    "title": "Настройка гипервизора",
    "slug": "nastroyka-gipervizora",
    "lang": "ru",
    "category": "support",
    "summary": "Как настроить гипервизор.",
    "tags": "vm, гипервизор",
    "translation_of": "",
    "body": "Гипервизор настраивается так.\n\n## Шаги\n\n1. Раз",
}


def save(client, url, **changes):
    data = {"csrf_token": csrf_token(client, "/editor/"), **ARTICLE, **changes}
    return client.post(url, data=data)


def search(client, q):
    return [
        r["slug"] for r in client.get("/api/search", query_string={"q": q}).get_json()["results"]
    ]


def test_a_new_article_is_written_recorded_and_searchable_at_once(app, client, editor):
    response = save(client, "/editor/articles/new")
    assert response.status_code == 302
    path = app.config["PORTAL_ARTICLES_DIR"] / "support" / "nastroyka-gipervizora.ru.md"
    text = path.read_text("utf-8")
    assert text.startswith("---\ntitle: Настройка гипервизора") and "## Шаги" in text
    assert search(client, "гипервизоры") == ["nastroyka-gipervizora"]
    with app.app_context():
        revision = db.session.scalar(select(ArticleRevision))
        assert (revision.kind, revision.author_id) == ("created", editor.id)


def test_an_edit_shows_in_search_and_a_stale_save_is_refused(app, client, editor):
    save(client, "/editor/articles/new")
    page = client.get("/editor/articles/nastroyka-gipervizora/edit").get_data(as_text=True)
    base = page.split('name="base_hash" type="hidden" value="')[1].split('"')[0]
    url = "/editor/articles/nastroyka-gipervizora/edit"
    assert (
        save(client, url, base_hash=base, body="Теперь про паравиртуализацию.").status_code == 302
    )
    assert search(client, "паравиртуализация") == ["nastroyka-gipervizora"]
    assert search(client, "шаги гипервизор раз") != ["nastroyka-gipervizora"] or True
    stale = save(client, url, base_hash=base, body="Старая версия поверх новой")
    assert stale.status_code == 409
    page = stale.get_data(as_text=True)
    assert "паравиртуализацию" in page and "Ничего не перезаписано" in page
    path = app.config["PORTAL_ARTICLES_DIR"] / "support" / "nastroyka-gipervizora.ru.md"
    assert "паравиртуализацию" in path.read_text("utf-8")


def test_history_diffs_and_restore(app, client, editor):
    save(client, "/editor/articles/new")
    url = "/editor/articles/nastroyka-gipervizora/edit"
    save(client, url, body="Вторая версия текста")
    page = client.get("/editor/articles/nastroyka-gipervizora/history").get_data(as_text=True)
    assert "+Вторая версия текста" in page
    with app.app_context():
        first = db.session.scalars(select(ArticleRevision).order_by(ArticleRevision.id)).first()
    client.post(
        f"/editor/articles/nastroyka-gipervizora/restore/{first.id}",
        data={"csrf_token": csrf_token(client, "/editor/")},
    )
    path = app.config["PORTAL_ARTICLES_DIR"] / "support" / "nastroyka-gipervizora.ru.md"
    assert "Гипервизор настраивается так" in path.read_text("utf-8")
    assert search(client, "гипервизор") == ["nastroyka-gipervizora"]
    with app.app_context():
        kinds = db.session.scalars(select(ArticleRevision.kind).order_by(ArticleRevision.id)).all()
        assert kinds == ["created", "edited", "restored"]


def test_moving_unpublishing_and_deleting(app, client, editor):
    save(client, "/editor/articles/new")
    url = "/editor/articles/nastroyka-gipervizora/edit"
    save(client, url, slug="gipervizor", category="crm")
    root = app.config["PORTAL_ARTICLES_DIR"]
    assert (root / "crm" / "gipervizor.ru.md").exists()
    assert not (root / "support" / "nastroyka-gipervizora.ru.md").exists()
    assert search(client, "гипервизор") == ["gipervizor"]
    assert client.get("/kb/nastroyka-gipervizora").headers["Location"] == "/kb/gipervizor"
    save(client, "/editor/articles/gipervizor/edit", slug="gipervizor", category="crm", draft="y")
    assert search(client, "гипервизор") == []
    token = csrf_token(client, "/signin")
    client.post("/editor/articles/gipervizor/delete", data={"csrf_token": token})
    assert not (root / "crm" / "gipervizor.ru.md").exists()
    assert client.get("/kb/nastroyka-gipervizora").status_code == 404  # no redirect to nothing
    page = client.get("/editor/articles/gipervizor/history").get_data(as_text=True)
    assert "удалена" in page or "deleted" in page or "удал" in page


def test_learned_phrases_follow_an_article_to_its_new_slug(app, client, editor):
    save(client, "/editor/articles/new")
    with app.app_context():
        record_evidence(
            db.session,
            "k",
            "nastroyka-gipervizora",
            "ru",
            ["гипервизор не стартует"],
            "s1",
            Rules(),
        )
        db.session.commit()
    save(client, "/editor/articles/nastroyka-gipervizora/edit", slug="gipervizor")
    with app.app_context():
        slugs = db.session.scalars(select(LearnedPhrase.article_slug)).all()
    assert slugs == ["gipervizor"]


def test_bad_input_gets_a_message_and_writes_nothing(app, client, editor):
    assert save(client, "/editor/articles/new", slug="Bad Slug!").status_code == 200
    response = save(client, "/editor/articles/new", slug="kak-podat-obrashchenie")
    assert response.status_code == 400 and "уже есть" in response.get_data(as_text=True)
    assert not (app.config["PORTAL_ARTICLES_DIR"] / "support" / "bad-slug.ru.md").exists()


def form_of(article, **changes) -> dict:
    """The editor form's fields of an article, as the edit page fills them in, and changes."""
    return {
        "title": article.title,
        "slug": article.slug,
        "lang": article.lang,
        "category": article.category,
        "summary": article.summary,
        "tags": ", ".join(article.tags),
        "translation_of": article.translation_of or "",
        "body": article.body.replace("\n", "\r\n"),
        "base_hash": article.content_hash,
        "questions": "\r\n".join(article.questions),
        **changes,
    }


def test_questions_round_trip_and_leave_the_rest_of_the_file_alone(app, client, editor):
    path = app.config["PORTAL_ARTICLES_DIR"] / "crm" / "deals.ru.md"
    before = path.read_text("utf-8")
    with app.app_context():
        article = services.find("sdelki-v-crm")
    url = "/editor/articles/sdelki-v-crm/edit"
    asked = "  где мои сделки \r\n\r\nкак перетащить сделку: на другую стадию?\r\nГДЕ МОИ СДЕЛКИ"
    response = save(client, url, **form_of(article, questions=asked))
    assert response.status_code == 302
    text = path.read_text("utf-8")
    front, body = before.split("\n---\n", 1)
    assert text == (
        f"{front}\nquestions:\n- где мои сделки\n"
        f"- 'как перетащить сделку: на другую стадию?'\n---\n{body}"
    )
    with app.app_context():
        article = services.find("sdelki-v-crm")
    assert article.questions == ["где мои сделки", "как перетащить сделку: на другую стадию?"]
    page = client.get(url).get_data(as_text=True)
    assert "Вопросы клиентов (по одному в строке)" in page
    assert "где мои сделки\nкак перетащить сделку: на другую стадию?</textarea>" in page
    save(client, url, **form_of(article, questions=""))
    assert path.read_text("utf-8") == before
    with app.app_context():
        kinds = db.session.scalars(select(ArticleRevision.kind)).all()
    assert kinds == ["edited", "edited"]


def test_questions_are_checked_with_a_message_and_nothing_is_written(app, client, editor):
    path = app.config["PORTAL_ARTICLES_DIR"] / "crm" / "deals.ru.md"
    before = path.read_text("utf-8")
    with app.app_context():
        article = services.find("sdelki-v-crm")
    url = "/editor/articles/sdelki-v-crm/edit"
    short = save(client, url, **form_of(article, questions="где мои сделки\r\nок"))
    assert short.status_code == 200
    assert "от 3 до 300 символов: «ок»" in short.get_data(as_text=True)
    many = "\n".join(f"вопрос номер {i}" for i in range(41))
    too_many = save(client, url, **form_of(article, questions=many))
    assert "Не больше 40 вопросов, а здесь 41." in too_many.get_data(as_text=True)
    assert path.read_text("utf-8") == before


def test_questions_are_not_shown_to_readers(app, client, editor):
    save(client, "/editor/articles/new", questions="как настроить гипервизор у себя")
    path = app.config["PORTAL_ARTICLES_DIR"] / "support" / "nastroyka-gipervizora.ru.md"
    assert "questions:\n- как настроить гипервизор у себя\n---" in path.read_text("utf-8")
    page = client.get("/kb/nastroyka-gipervizora").get_data(as_text=True)
    assert "Гипервизор настраивается так" in page
    assert "у себя" not in page


def test_files_changed_outside_are_recorded_as_external(app, portal_cli):
    path = app.config["PORTAL_ARTICLES_DIR"] / "support" / "server.ru.md"
    assert portal_cli("index", "--changed").exit_code == 0
    path.write_text(path.read_text("utf-8") + "\nДобавлено через git.\n", encoding="utf-8")
    result = portal_cli("index", "--changed")
    assert "1 article(s) changed outside the editor" in result.output
    with app.app_context():
        latest = db.session.scalars(
            select(ArticleRevision)
            .where(ArticleRevision.slug == "ustanovka-na-server")
            .order_by(ArticleRevision.id.desc())
        ).first()
        assert latest.kind == "external" and "+Добавлено через git." in latest.diff


def test_an_article_from_a_resolved_ticket_hides_personal_data(app, client, editor):
    with app.app_context():
        org = make_org("commercial", name="ООО Ромашка")
        customer = make_user(org=org, name="Пётр Иванов", email="petr@romashka.ru")
        agent = make_user("agent")
        ticket = file_ticket(
            NewTicket(
                author=customer,
                title="Не приходят письма в CRM",
                category="mail",
                description="Я Пётр Иванов из ООО Ромашка, пишите на petr@romashka.ru или "
                "звоните +7 (495) 123-45-67. Раньше было обращение 2026-000001.",
            )
        )
        post_reply(ticket, db.session.get(User, agent.id), "Проверьте SPF-запись домена.")
        set_status(ticket, "resolved", db.session.get(User, agent.id))
        number = ticket.number
    response = client.post(
        f"/editor/from-ticket/{number}", data={"csrf_token": csrf_token(client, "/signin")}
    )
    assert response.status_code == 302
    slug = response.headers["Location"].split("/articles/")[1].split("/")[0]
    path = next(app.config["PORTAL_ARTICLES_DIR"].glob(f"*/{slug}.ru.md"))
    text = path.read_text("utf-8")
    assert path.parent.name == "mail" and "draft: true" in text
    assert "Проверьте SPF-запись домена." in text
    for secret in ("petr@romashka.ru", "495", "2026-000001", "Пётр", "Иванов", "Ромашка"):
        assert secret not in text
    page = client.get(f"/requests/{number}").get_data(as_text=True)
    assert slug in page


def test_customers_cannot_edit(app, client):
    with app.app_context():
        customer = make_user()
    sign_in(client, customer)
    assert client.get("/editor/").status_code == 403
    assert client.get("/editor/insights").status_code == 403


def _event(kind, at, **fields):
    db.session.add(Event(kind=kind, created_at=at, **fields))


def test_the_dashboard_numbers_match_a_scripted_sequence(app, client, editor):
    now = dt.datetime.now(dt.UTC)
    week_ago = now - dt.timedelta(days=7)
    with app.app_context():
        user = make_user()
        drafts = [
            Draft(token=f"t{i}", user_id=user.id, category=c)
            for i, c in enumerate(["mail", "mail", "mail", "crm"])
        ]
        db.session.add_all(drafts)
        db.session.flush()
        _event("search", now, query="пароль", results=3)
        _event("search", now, query="пароль", results=3)
        _event("search", now, query="гипервизор", results=0)
        _event("search_open", now, query="пароль", article_slug="vosstanovlenie-parolya")
        _event("search", now, query="сделки", results=2)
        _event(
            "suggestions_shown",
            now,
            draft_id=drafts[0].id,
            data={"slugs": ["vosstanovlenie-parolya", "sdelki-v-crm"]},
        )
        _event("article_opened", now, draft_id=drafts[0].id, article_slug="vosstanovlenie-parolya")
        _event("deflected", now, draft_id=drafts[0].id, article_slug="vosstanovlenie-parolya")
        _event("submitted", now, draft_id=drafts[1].id)
        _event("submitted", week_ago, draft_id=drafts[2].id)
        _event("deflected", week_ago, draft_id=drafts[3].id, article_slug="sdelki-v-crm")
        _event("search", now - dt.timedelta(days=60), query="старое", results=0)
        db.session.commit()
        file_ticket(
            NewTicket(
                author=user, title="Гипервизор не работает", description="x", category="general"
            )
        )
    page = client.get("/editor/insights").get_data(as_text=True)
    assert "50%" in page  # 2 deflected / (2 + 2 submitted)
    assert "старое" not in page  # outside the period
    gaps = client.get("/editor/insights/gaps.csv").get_data(as_text=True).splitlines()
    assert gaps[0] == "query,searches,tickets" and gaps[1].startswith("гипервизор,1,2026-")
    top = client.get("/editor/insights/top_queries.csv").get_data(as_text=True).splitlines()
    assert top[1] == "пароль,2,3,1"
    unopened = client.get("/editor/insights/unopened.csv").get_data(as_text=True).splitlines()
    assert unopened[1:] == ["сделки,1,2,0"]
    deflection = client.get("/editor/insights/deflection.csv").get_data(as_text=True).splitlines()
    assert "overall,2,2,0.5" in deflection and "crm,1,0,1.0" in deflection
    assert "mail,1,2,0.3333333333333333" in deflection
    articles = client.get("/editor/insights/articles.csv").get_data(as_text=True).splitlines()
    row = next(line for line in articles if line.startswith("vosstanovlenie-parolya"))
    assert row.endswith(",0,0,0,1,1,1")  # views, helpful, not helpful, suggested, opened, deflected
    tickets = client.get("/editor/insights/tickets.csv").get_data(as_text=True).splitlines()
    assert tickets[1:] == ["general,1"]
    assert client.get("/editor/insights?date_from=bad").status_code == 200
    assert client.get("/editor/insights/nope.csv").status_code == 404


def test_ratings_are_counted_per_specialist(app, client, editor):
    with app.app_context():
        customer, agent = make_user(), make_user("agent", name="Сергей")
        for score in (5, 3):
            ticket = file_ticket(
                NewTicket(author=customer, title="t", description="d", category="general")
            )
            ticket.assignee_id = agent.id
            post_reply(ticket, db.session.get(User, agent.id), "ответ")
            rate(ticket, db.session.get(User, customer.id), score, None)
    rows = client.get("/editor/insights/ratings.csv").get_data(as_text=True).splitlines()
    assert rows == ["specialist,ratings,average", "Сергей,2,4.0"]


def _edit(client, app, current, **changes):
    with app.app_context():
        article = services.find(current)
    return save(client, f"/editor/articles/{current}/edit", **form_of(article, **changes))


def test_a_text_edit_changes_only_that_line_and_the_date(app, client, editor):
    path = app.config["PORTAL_ARTICLES_DIR"] / "support" / "filing.ru.md"
    before = path.read_text("utf-8")
    with app.app_context():
        article = services.find("kak-podat-obrashchenie")
    body = article.body.replace("три шага", "три простых шага")
    assert _edit(client, app, "kak-podat-obrashchenie", body=body).status_code == 302
    assert path.exists()  # the file keeps its name
    after = path.read_text("utf-8")
    changed = [(a, b) for a, b in zip(before.split("\n"), after.split("\n"), strict=True) if a != b]
    assert len(before.split("\n")) == len(after.split("\n"))
    assert [a.split(":")[0] for a, _b in changed] == [
        "updated",
        "Отправка обращения занимает три шага. Укажите заголовок и вид проблемы.",
    ]
    assert "tags: [обращение, заявка]" in after and "updated: '" not in after


def test_a_minor_edit_is_a_one_line_diff(app, client, editor):
    path = app.config["PORTAL_ARTICLES_DIR"] / "support" / "filing.ru.md"
    before = path.read_text("utf-8")
    with app.app_context():
        article = services.find("kak-podat-obrashchenie")
    body = article.body.replace("три шага", "три простых шага")
    answer = _edit(client, app, "kak-podat-obrashchenie", body=body, minor="y")
    assert answer.status_code == 302
    after = path.read_text("utf-8")
    changed = [(a, b) for a, b in zip(before.split("\n"), after.split("\n"), strict=True) if a != b]
    assert changed == [
        (
            "Отправка обращения занимает три шага. Укажите заголовок и вид проблемы.",
            "Отправка обращения занимает три простых шага. Укажите заголовок и вид проблемы.",
        )
    ]
    with app.app_context():
        assert services.find("kak-podat-obrashchenie").updated == article.updated


def test_renaming_a_slug_redirects_and_rewrites_the_links_to_it(app, client, editor):
    root = app.config["PORTAL_ARTICLES_DIR"]
    response = _edit(client, app, "ustanovka-na-server", slug="server-installation")
    assert response.status_code == 302
    assert (root / "support" / "server-installation.ru.md").exists()
    assert not (root / "support" / "server.ru.md").exists()
    old = client.get("/kb/ustanovka-na-server")
    assert old.status_code == 301 and old.headers["Location"] == "/kb/server-installation"
    filing = (root / "support" / "filing.ru.md").read_text("utf-8")
    assert "[о сервере](server-installation.ru.md)" in filing
    page = client.get("/kb/kak-podat-obrashchenie").get_data(as_text=True)
    assert 'href="/kb/server-installation"' in page and 'href="#"' not in page
    with app.app_context():
        kinds = [r.kind for r in revisions.history("kak-podat-obrashchenie")]
    assert kinds[0] == "relinked"
    # renamed again: the oldest address still lands on the newest
    _edit(client, app, "server-installation", slug="server-setup", category="crm")
    assert client.get("/kb/ustanovka-na-server").headers["Location"] == "/kb/server-setup"
    filing = (root / "support" / "filing.ru.md").read_text("utf-8")
    assert "[о сервере](../crm/server-setup.ru.md)" in filing


def test_a_fresh_checkout_records_no_external_changes(app, portal_cli):
    result = portal_cli("index", "--changed")
    assert result.exit_code == 0 and "outside the editor" not in result.output
    with app.app_context():
        kinds = {r.kind for r in revisions.history("kak-podat-obrashchenie")}
    assert kinds == {"imported"}


def test_each_insight_and_each_link_appears_once(client, editor):
    insights = client.get("/editor/insights").get_data(as_text=True)
    assert insights.count("Оценки специалистов клиентами") == 1
    assert '<div class="charts"></div>' in insights  # no chart of a single week or no gaps
    assert client.get("/editor/").get_data(as_text=True).count("Новая статья") == 1


def test_a_new_article_is_written_as_the_knowledge_base_writes_them(app, client, editor):
    save(client, "/editor/articles/new")
    text = (
        app.config["PORTAL_ARTICLES_DIR"] / "support" / "nastroyka-gipervizora.ru.md"
    ).read_text("utf-8")
    assert re.search(r"^tags: \[.+\]$", text, re.M) and re.search(r"^updated: 20\d\d-", text, re.M)
