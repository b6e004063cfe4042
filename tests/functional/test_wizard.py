import io
import re
import threading
import zipfile

import pytest
from sqlalchemy import func, select

from portal.analytics.models import Event
from portal.coupons.services import issue
from portal.extensions import db
from portal.kb.vectors import word_vectors
from portal.outbox.models import OutboxMessage
from portal.scope import learned_of, load_rules
from portal.tickets import filing
from portal.tickets.models import Attachment, Ticket
from portal.wizard.models import Draft
from tests.factories import csrf_token, make_org, make_user, sign_in

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def start(client, title="Не проходят звонки через SIP", category="telephony"):
    token = csrf_token(client, "/requests/new")
    response = client.post(
        "/requests/new", data={"csrf_token": token, "title": title, "category": category}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def draft_token(location: str) -> str:
    return re.search(r"/requests/drafts/([^/]+)/", location).group(1)


def describe(client, token, text, files=(), coupon="", criticality="normal"):
    url = f"/requests/drafts/{token}/description"
    data = {
        "csrf_token": csrf_token(client, url),
        "description": text,
        "criticality": criticality,
        "coupon": coupon,
        "files": [(io.BytesIO(content), name) for name, content in files],
    }
    return client.post(url, data=data, content_type="multipart/form-data")


def events(app, kind):
    with app.app_context():
        return db.session.scalars(select(Event).where(Event.kind == kind)).all()


@pytest.fixture
def customer(app, client):
    with app.app_context():
        user = make_user(org=make_org("commercial"))
    sign_in(client, user)
    return user


def test_every_step_without_javascript_files_exactly_the_preview(app, client, customer):
    location = start(client)
    assert location.endswith("/details")  # telephony has its own step
    token = draft_token(location)
    page = client.post(
        location, data={"csrf_token": csrf_token(client, location), "details-phone_number": ""}
    ).get_data(as_text=True)
    assert "Обязательное поле" in page
    response = client.post(
        location,
        data={"csrf_token": csrf_token(client, location), "phone_number": "+7 495 123-45-67"},
    )
    assert response.headers["Location"].endswith("/description")
    response = describe(
        client,
        token,
        "Исходящие звонки сбрасываются через 30 секунд разговора.",
        files=[("screen.png", PNG)],
        criticality="high",
    )
    assert response.headers["Location"].endswith("/preview")
    preview = client.get(f"/requests/drafts/{token}/preview").get_data(as_text=True)
    assert "сбрасываются через 30 секунд" in preview and "+7 495 123-45-67" in preview
    assert "Ответ до" in preview and "МСК" in preview and "screen.png" in preview
    submit = client.post(
        f"/requests/drafts/{token}/submit",
        data={"csrf_token": csrf_token(client, f"/requests/drafts/{token}/preview")},
    )
    assert submit.status_code == 302 and "/requests/20" in submit.headers["Location"]
    page = client.get(submit.headers["Location"]).get_data(as_text=True)
    assert "screen.png" in page
    with app.app_context():
        ticket = db.session.scalar(select(Ticket))
        assert (ticket.category, ticket.criticality, ticket.channel) == ("telephony", "high", "web")
        assert ticket.details == {"phone_number": "+7 495 123-45-67"}
        assert ticket.messages[0].body == "Исходящие звонки сбрасываются через 30 секунд разговора."
        assert db.session.scalar(select(func.count()).select_from(Attachment)) == 1
        assert db.session.scalar(select(OutboxMessage.kind)) == "ticket_created"
    assert [e.kind for e in events(app, "draft_started")] == ["draft_started"]
    assert events(app, "submitted")[0].data == {"ticket": ticket.number}
    # The request cannot be rewritten afterwards: there is no route for it.
    assert client.post(f"/requests/{ticket.number}", data={"title": "x"}).status_code == 405
    assert (
        client.post(
            f"/requests/drafts/{token}/submit",
            data={"csrf_token": csrf_token(client, "/requests/new")},
        ).status_code
        == 302
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ticket)) == 1


def test_opening_the_wizard_learns_the_scope_check_in_the_background(
    app, client, customer, monkeypatch
):
    monkeypatch.setattr(filing, "_scope_prepared", threading.Event())
    rules = load_rules(app.config["PORTAL_SCOPE_RULES_FILE"])
    vectors = word_vectors(app.config["PORTAL_SEARCH_VECTORS"])
    key = ("learned", id(vectors))
    monkeypatch.setitem(rules.cache, key, None)  # the learned one comes back afterwards
    del rules.cache[key]
    assert client.get("/requests/new").status_code == 200
    for thread in threading.enumerate():
        if thread.name == "scope-warm-up":
            thread.join(timeout=60)
    assert rules.cache[key][1] is learned_of(rules, vectors) is not None
    client.get("/requests/new")  # once per process
    assert not [t for t in threading.enumerate() if t.name == "scope-warm-up"]


def test_step_errors_are_in_the_users_language(client, customer):
    token = csrf_token(client, "/requests/new")
    page = client.post(
        "/requests/new", data={"csrf_token": token, "title": "", "category": "nope"}
    ).get_data(as_text=True)
    assert "Обязательное поле" in page
    assert "Не верный вариант" in page or "Неверный" in page or "вариант" in page


def test_a_draft_is_kept_and_can_be_resumed_or_discarded(app, client, customer):
    token = draft_token(start(client, "Письма не доходят", "general"))
    page = client.get("/requests/new").get_data(as_text=True)
    assert "Письма не доходят" in page and token in page
    page = client.get(f"/requests/drafts/{token}/subject").get_data(as_text=True)
    assert 'value="Письма не доходят"' in page
    client.post(
        f"/requests/drafts/{token}/discard",
        data={"csrf_token": csrf_token(client, "/requests/new")},
    )
    assert token not in client.get("/requests/new").get_data(as_text=True)
    assert len(events(app, "abandoned")) == 1


def test_another_users_draft_is_not_found(app, client, customer):
    token = draft_token(start(client, "Мой черновик", "general"))
    with app.app_context():
        other = make_user()
    client.post("/signout", data={"csrf_token": csrf_token(client, "/signin")})
    sign_in(client, other)
    for url in (f"/requests/drafts/{token}/subject", f"/requests/drafts/{token}/preview"):
        assert client.get(url).status_code == 404


OUT_OF_SCOPE = "Установите, пожалуйста, Битрикс24 на наш новый VPS сервер, доступы пришлём."


def test_out_of_scope_is_refused_at_preview_unless_the_customer_insists(app, client, customer):
    token = draft_token(start(client, "Установка на сервер", "general"))
    describe(client, token, OUT_OF_SCOPE)
    preview_url = f"/requests/drafts/{token}/preview"
    page = client.get(preview_url).get_data(as_text=True)
    assert "не входит" in page and "/kb/chto-ne-delaet-tekhpodderzhka" in page
    response = client.post(
        f"/requests/drafts/{token}/submit", data={"csrf_token": csrf_token(client, preview_url)}
    )
    assert response.status_code == 400
    response = client.post(
        f"/requests/drafts/{token}/submit",
        data={"csrf_token": csrf_token(client, preview_url), "insist": "y"},
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0
    response = client.post(
        f"/requests/drafts/{token}/submit",
        data={
            "csrf_token": csrf_token(client, preview_url),
            "insist": "y",
            "insist_note": "Установщик падает с ошибкой, это сбой продукта",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        ticket = db.session.scalar(select(Ticket))
        assert ticket.scope_review and ticket.details["scope_note"].startswith("Установщик")


def test_consultation_is_filed_at_that_level_and_the_preview_says_why(app, client):
    with app.app_context():
        user = make_user()  # non-commercial
    sign_in(client, user)
    token = draft_token(start(client, "Вопрос по программированию", "general"))
    describe(
        client,
        token,
        "Подскажите, как написать цикл foreach на PHP для обхода массива "
        "и вывести его элементы в таблицу?",
    )
    page = client.get(f"/requests/drafts/{token}/preview").get_data(as_text=True)
    assert "консультац" in page.lower() and "40" in page
    client.post(
        f"/requests/drafts/{token}/submit", data={"csrf_token": csrf_token(client, "/requests/new")}
    )
    with app.app_context():
        assert db.session.scalar(select(Ticket.service_level)) == "consultation"


def test_this_solved_my_problem_ends_the_draft_as_deflected(app, client, customer):
    token = draft_token(start(client, "Как подключить почтовый ящик", "mail"))
    response = client.post(
        f"/requests/drafts/{token}/deflect",
        data={
            "csrf_token": csrf_token(client, "/requests/new"),
            "slug": "podklyuchenie-pochtovogo-yashchika-imap-smtp",
        },
    )
    assert "/requests/solved/" in response.headers["Location"]
    with app.app_context():
        draft = db.session.scalar(select(Draft))
        assert (draft.state, draft.deflected_by) == (
            "deflected",
            "podklyuchenie-pochtovogo-yashchika-imap-smtp",
        )
        assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0
    assert events(app, "deflected")[0].article_slug == draft.deflected_by


def test_suggestions_are_shown_beside_the_steps_without_javascript(app, client, customer):
    token = draft_token(start(client, "Не приходит код двухфакторной авторизации", "security"))
    page = client.get(f"/requests/drafts/{token}/description").get_data(as_text=True)
    assert "/kb/dvuhfaktornaya-avtorizaciya-otp-poterya-telefona" in page
    assert "Это решило мою проблему" in page
    shown = events(app, "suggestions_shown")
    assert shown and "dvuhfaktornaya-avtorizaciya-otp-poterya-telefona" in shown[0].data["slugs"]


def test_the_panel_reports_its_events_with_a_csrf_header(app, client, customer):
    token = draft_token(start(client, "Телефония", "general"))
    url = f"/requests/drafts/{token}/events"
    body = {"kind": "article_opened", "slugs": ["kupony-i-speczaprosy"]}
    assert client.post(url, json=body).status_code == 400  # no token
    header = {"X-CSRFToken": csrf_token(client, "/requests/new")}
    assert client.post(url, json=body, headers=header).status_code == 200
    assert client.post(url, json={"kind": "hack"}, headers=header).status_code == 400
    assert events(app, "article_opened")[0].article_slug == "kupony-i-speczaprosy"


def test_the_article_api_gives_sanitised_html(client):
    data = client.get("/api/articles/kupony-i-speczaprosy").get_json()
    assert data["title"] == "Купоны и спецзапросы" and "<script" not in data["html"]
    assert client.get("/api/articles/nope").status_code == 404


def test_a_coupon_problem_is_explained_and_nothing_is_filed(app, client):
    with app.app_context():
        org = make_org("vip")
        coupon = issue(org)
        coupon.requests_used = coupon.requests_total
        db.session.commit()
        user = make_user(org=org)
    sign_in(client, user)
    token = draft_token(start(client, "Сайт не работает после обновления", "general"))
    describe(
        client,
        token,
        "После обновления ядра главная страница отдаёт ошибку 500.",
        coupon=coupon.code,
    )
    page = client.get(f"/requests/drafts/{token}/preview").get_data(as_text=True)
    assert "уже использованы" in page
    response = client.post(
        f"/requests/drafts/{token}/submit", data={"csrf_token": csrf_token(client, "/requests/new")}
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0


def _bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.txt", b"\x00" * (30 * 1024 * 1024))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("virus.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff", "недопустимого типа"),
        ("bomb.zip", _bomb(), "небезопасный архив"),
        ("empty.png", b"", "пуст"),
    ],
)
def test_unsafe_files_are_refused_with_a_message(
    client, customer, name, content, message, attachment_store
):
    token = draft_token(start(client, "Файлы", "general"))
    page = describe(
        client, token, "Прикладываю файл с логами, посмотрите пожалуйста.", files=[(name, content)]
    ).get_data(as_text=True)
    assert message in page


def test_too_many_files_and_hostile_names(app, client, customer, attachment_store):
    token = draft_token(start(client, "Файлы", "general"))
    files = [(f"../../etc/pass\x00wd{i}.txt", b"log line\n") for i in range(7)]
    page = describe(
        client, token, "Прикладываю файлы с логами, посмотрите пожалуйста.", files=files
    ).get_data(as_text=True)
    assert "слишком много" in page
    with app.app_context():
        draft = db.session.scalar(select(Draft))
        assert len(draft.files) == 5
        assert all("/" not in f.filename and "\x00" not in f.filename for f in draft.files)


def test_attachments_are_served_only_to_those_who_see_the_ticket(
    app, client, customer, attachment_store
):
    token = draft_token(start(client, "Скриншот ошибки", "general"))
    describe(
        client,
        token,
        "Ошибка на странице CRM, скриншот приложен к обращению.",
        files=[("<b>shot</b>.png", PNG)],
    )
    client.post(
        f"/requests/drafts/{token}/submit", data={"csrf_token": csrf_token(client, "/requests/new")}
    )
    with app.app_context():
        attachment = db.session.scalar(select(Attachment))
        other = make_user()
    response = client.get(f"/attachments/{attachment.id}")
    assert response.status_code == 200 and response.data == PNG
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment")
    response.close()
    client.post("/signout", data={"csrf_token": csrf_token(client, "/signin")})
    sign_in(client, other)
    assert client.get(f"/attachments/{attachment.id}").status_code == 404


def test_a_draft_file_downloads_and_deleting_it_removes_it_from_the_store(
    app, client, customer, attachment_store
):
    token = draft_token(start(client, "Скриншот ошибки", "general"))
    describe(client, token, "Ошибка на странице CRM, скриншот приложен.", files=[("a.png", PNG)])
    with app.app_context():
        item = db.session.scalar(select(Draft)).files[0]
        name, url = item.stored_name, f"/requests/drafts/{token}/files/{item.id}"
        assert attachment_store.exists(name)
    response = client.get(url)
    assert response.status_code == 200 and response.data == PNG
    response.close()
    client.post(f"{url}/delete", data={"csrf_token": csrf_token(client, "/requests/new")})
    with app.app_context():
        assert not attachment_store.exists(name)
    assert client.get(url).status_code == 404


def test_the_wizard_needs_an_account(client):
    response = client.get("/requests/new")
    assert response.status_code == 302 and "/signin" in response.headers["Location"]


def test_the_coupon_is_checked_on_its_own_step_and_its_offer_shown(app, client):
    with app.app_context():
        org = make_org("vip")
        coupon = issue(org)
        coupon.requests_used = 3
        db.session.commit()
        code = coupon.code
        user = make_user(org=org)
    sign_in(client, user)
    token = draft_token(start(client, "Сайт не работает после обновления", "general"))
    text = "После обновления ядра главная страница отдаёт ошибку 500."
    wrong = describe(client, token, text, coupon="WRONGCODE1")
    assert wrong.status_code == 200 and "Такого купона у вашей организации нет" in wrong.get_data(
        as_text=True
    )
    right = describe(client, token, text, coupon=code.lower())
    assert right.headers["Location"].endswith("/preview")
    preview = client.get(f"/requests/drafts/{token}/preview").get_data(as_text=True)
    assert "спецзапросом" in preview and "12 спецзапросов из 15" in preview
    step = client.get(f"/requests/drafts/{token}/description").get_data(as_text=True)
    assert "12 спецзапросов из 15" in step


def test_a_refused_preview_shows_no_deadline(app, client, customer):
    token = draft_token(start(client, "Установка на сервер", "general"))
    describe(client, token, OUT_OF_SCOPE)
    page = client.get(f"/requests/drafts/{token}/preview").get_data(as_text=True)
    assert "не входит" in page and "Ответ до" not in page


def test_the_step_numbers_never_shift_with_the_problem_type(client, customer):
    first = client.get("/requests/new").get_data(as_text=True)
    assert "3. Предпросмотр" in first
    location = start(client, "Не проходят звонки через SIP", "telephony")
    details = client.get(location).get_data(as_text=True)
    assert "3. Предпросмотр" in details and "4." not in details


def test_choices_are_shown_by_their_labels(app, client, customer):
    location = start(client, "Не приходят письма", "mail")
    client.post(
        location,
        data={
            "csrf_token": csrf_token(client, location),
            "mailbox": "info@example.com",
            "mail_service": "yandex",
        },
    )
    token = draft_token(location)
    describe(client, token, "Письма с сайта не доходят до ящика на Яндексе.")
    preview = client.get(f"/requests/drafts/{token}/preview").get_data(as_text=True)
    assert "Яндекс Почта" in preview and ">yandex<" not in preview
    client.post(
        f"/requests/drafts/{token}/submit", data={"csrf_token": csrf_token(client, "/requests/new")}
    )
    with app.app_context():
        number = db.session.scalar(select(Ticket.number))
    page = client.get(f"/requests/{number}").get_data(as_text=True)
    assert "Яндекс Почта" in page and ">yandex<" not in page
