"""Regression tests holding the exact payloads of the hardening findings: numbers that
are not numbers, deeply nested JSON, half-set calendar hours, control characters,
zip bombs that lie about their size, and an unlimited search page."""

import datetime as dt
import io
import json
import os
import struct
import time
import zipfile

import pytest
from sqlalchemy import select

from portal.api_v1.services import issue_token
from portal.calendar.models import CalendarOverride
from portal.calendar.services import forget_policy
from portal.extensions import db, limiter
from portal.tickets.attachments import UploadError, check_archive, store
from portal.tickets.models import Message
from portal.tickets.services import NewTicket, file_ticket, sla_view
from tests.factories import csrf_token, make_org, make_user, sign_in

CONTROL = "\x01\x1b[31mred\x07"
CLEANED = "[31mred"
DEEP = "[" * 5000


@pytest.fixture
def people(app):
    with app.app_context():
        org = make_org("commercial")
        customer = make_user(org=org)
        agent = make_user("agent")
        admin = make_user("admin")
        ticket = file_ticket(
            NewTicket(
                author=customer,
                title="Письма не доходят",
                description="С утра письма не доходят.",
                category="mail",
            )
        )
        return {
            "customer": customer,
            "agent": agent,
            "admin": admin,
            "number": ticket.number,
            "token": issue_token(customer, "attacks")[1],
            "agent_token": issue_token(agent, "attacks")[1],
        }


def assert_no_traceback(response):
    body = response.get_data(as_text=True)
    assert response.status_code < 500, body[:500]
    assert "Traceback" not in body and "Error:" not in body


# 1. Numbers that are not numbers


def test_thread_updates_after_a_superscript_two_answer_the_whole_thread(client, people):
    sign_in(client, people["customer"])
    for payload in ("%C2%B2", "%D9%A3", "1_000", "99999999999999999999999999", "-1"):
        response = client.get(f"/requests/{people['number']}/updates?after={payload}")
        assert_no_traceback(response)
        assert response.status_code == 200 and len(response.get_json()["html"]) == 1


@pytest.mark.parametrize("payload", ["%C2%B2", "99999999999999999999999999", "%D9%A3", "1_000"])
def test_queue_assignee_that_is_no_id_is_ignored_with_a_message(client, people, payload):
    sign_in(client, people["agent"])
    response = client.get(f"/agent/queue?assignee={payload}")
    assert_no_traceback(response)
    assert response.status_code == 200
    assert "Выберите специалиста из списка" in response.get_data(as_text=True)
    assert people["number"] in response.get_data(as_text=True)  # the filter is ignored


@pytest.mark.parametrize("path", ["/attachments/99999999999999999999999", "/attachments/٣"])
def test_ids_in_addresses_beyond_a_database_integer_are_not_found(client, people, path):
    sign_in(client, people["customer"])
    response = client.get(path)
    assert response.status_code == 404


@pytest.mark.parametrize(
    "query", ["page=%C2%B2", "page=%D9%A3", "page=1_000", "page=99999999999999999999999"]
)
def test_page_numbers_take_ascii_digits_only(client, people, query):
    sign_in(client, people["customer"])
    for url in ("/search?q=crm&", "/requests?"):
        assert client.get(url + query).status_code == 200
    api = client.get(f"/api/search?q=crm&{query}")
    assert api.status_code == 400 and api.get_json()["error"]["code"] == "invalid_parameter"
    rest = client.get(
        f"/api/v1/tickets?{query}", headers={"Authorization": f"Bearer {people['token']}"}
    )
    assert rest.status_code == 400 and rest.get_json()["error"]["code"] == "invalid_parameter"


# 2. Deeply nested JSON


def _json_post(client, url, body, **headers):
    return client.post(url, data=body, headers={"Content-Type": "application/json", **headers})


def test_five_thousand_brackets_to_the_rest_api_are_a_400_in_its_error_shape(client, people):
    bearer = {"Authorization": f"Bearer {people['token']}"}
    agent = {"Authorization": f"Bearer {people['agent_token']}"}
    number = people["number"]
    for url, headers in (
        ("/api/v1/tickets", bearer),
        (f"/api/v1/tickets/{number}/replies", bearer),
        (f"/api/v1/tickets/{number}/status", agent),
    ):
        for body in (DEEP, '{"title": ' + DEEP, '{"a":' * 5000):
            response = _json_post(client, url, body, **headers)
            assert_no_traceback(response)
            assert response.status_code == 400, (url, response.get_data(as_text=True))
            error = response.get_json()["error"]
            assert error["code"] == "invalid_json" and error["message"]


def test_five_thousand_brackets_to_the_site_json_endpoints_are_a_400(client, people):
    sign_in(client, people["customer"])
    token = csrf_token(client, "/requests/new")
    response = client.post(
        "/requests/new",
        data={"csrf_token": token, "title": "Не проходят звонки через SIP", "category": "general"},
    )
    draft = response.headers["Location"].split("/requests/drafts/")[1].split("/")[0]
    for url in ("/api/markdown", f"/requests/drafts/{draft}/events"):
        response = _json_post(client, url, DEEP, **{"X-CSRFToken": token})
        assert_no_traceback(response)
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "invalid_parameter"


def test_brackets_inside_strings_do_not_count_and_shallow_json_still_works(client, people):
    sign_in(client, people["customer"])
    token = csrf_token(client, "/requests/new")
    text = "[" * 200 + " **bold**"  # deeper than 32, inside a string
    response = _json_post(
        client, "/api/markdown", json.dumps({"text": text}), **{"X-CSRFToken": token}
    )
    assert response.status_code == 200 and "<strong>bold</strong>" in response.get_json()["html"]


def test_a_json_body_over_a_megabyte_is_refused_before_parsing(client, people):
    sign_in(client, people["customer"])
    token = csrf_token(client, "/requests/new")
    body = json.dumps({"text": "a" * (1024 * 1024 + 10)})
    response = _json_post(client, "/api/markdown", body, **{"X-CSRFToken": token})
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "too_large"


# 3. The calendar form and a bad row already stored


def _admin_post(client, data):
    token = csrf_token(client, "/admin/calendar")
    return client.post("/admin/calendar", data={"csrf_token": token, **data})


def test_a_shortened_day_with_an_opening_and_no_closing_time_is_refused(app, client, people):
    sign_in(client, people["admin"])
    day = {"day": "2031-03-07", "kind": "short_day", "note": ""}
    cases = [
        ({"opens": "10:00", "closes": ""}, "Укажите и начало, и конец работы"),
        ({"opens": "", "closes": "16:00"}, "Укажите и начало, и конец работы"),
        ({"opens": "16:00", "closes": "10:00"}, "позже"),
        ({"opens": "25:00", "closes": "26:00"}, None),
    ]
    for times, message in cases:
        response = _admin_post(client, {**day, **times})
        assert response.status_code == 200, times
        if message:
            assert message in response.get_data(as_text=True), times
    with app.app_context():
        assert db.session.scalars(select(CalendarOverride)).all() == []
    assert _admin_post(client, {**day, "opens": "10:00", "closes": "16:00"}).status_code == 302


def test_a_bad_stored_row_is_shown_flagged_and_deadlines_keep_working(app, client, people):
    with app.app_context():
        db.session.add_all(
            [
                CalendarOverride(day=dt.date(2031, 3, 7), kind="short_day", opens=dt.time(10)),
                CalendarOverride(
                    day=dt.date(2031, 3, 8), kind="day_off", opens=dt.time(10), closes=dt.time(9)
                ),
                CalendarOverride(day=dt.date(2031, 3, 9), kind="holiday"),
            ]
        )
        db.session.commit()
    sign_in(client, people["admin"])
    response = client.get("/admin/calendar")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count('class="flagged"') == 3 and "10:00–…" in page
    with app.app_context():
        forget_policy()
        ticket = file_ticket(
            NewTicket(
                author=db.session.get(type(people["customer"]), people["customer"].id),
                title="Ещё один запрос",
                description="Сроки считаются и при испорченной поправке.",
                category="general",
            )
        )
        assert ticket.response_due is not None and sla_view(ticket).state != "paused"
    sign_in(client, people["customer"])
    assert client.get(f"/requests/{people['number']}").status_code == 200


# 4. Control characters in what people type


def test_control_characters_are_removed_through_the_filing_service(app, people):
    with app.app_context():
        customer = db.session.get(type(people["customer"]), people["customer"].id)
        ticket = file_ticket(
            NewTicket(
                author=customer,
                title=CONTROL + "\u202etxt.exe",
                description=CONTROL + "\r\nвторая строка\tи\u0085третья",
                category="general",
            )
        )
        assert ticket.title == CLEANED + "txt.exe"
        assert ticket.messages[0].body == CLEANED + "\nвторая строка\tи\nтретья"


def test_control_characters_are_removed_from_web_replies(app, client, people):
    sign_in(client, people["customer"])
    url = f"/requests/{people['number']}"
    token = csrf_token(client, url)
    response = client.post(f"{url}/reply", data={"csrf_token": token, "body": CONTROL})
    assert response.status_code == 302
    with app.app_context():
        bodies = db.session.scalars(select(Message.body).order_by(Message.id)).all()
    assert bodies[-1] == CLEANED


def test_control_characters_are_removed_from_api_requests_and_replies(app, client, people):
    headers = {"Authorization": f"Bearer {people['token']}"}
    response = client.post(
        "/api/v1/tickets",
        json={
            "title": CONTROL + " in the CRM",
            "description": CONTROL + " deals do not move between the stages of the funnel",
            "category": "general",
        },
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["title"] == CLEANED + " in the CRM"
    assert data["messages"][0]["body"].startswith(CLEANED + " deals")
    reply = client.post(
        f"/api/v1/tickets/{data['number']}/replies", json={"body": CONTROL}, headers=headers
    )
    assert reply.status_code == 201 and reply.get_json()["body"] == CLEANED


# 5. Uploads: zip bombs that lie about their size, and the names in refusals


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _declare_size(data: bytes, size: int) -> bytes:
    """The same archive with the uncompressed size in both headers patched to `size`."""
    patched = bytearray(data)
    local = patched.find(b"PK\x03\x04")
    struct.pack_into("<I", patched, local + 22, size)
    central = patched.find(b"PK\x01\x02")
    struct.pack_into("<I", patched, central + 24, size)
    return bytes(patched)


def test_an_archive_declaring_ten_kilobytes_that_inflates_past_the_limit_is_refused(
    app, attachment_store
):
    bomb = _declare_size(_zip({"logs.txt": b"\x00" * (40 * 1024 * 1024)}), 10 * 1024)
    assert len(bomb) < 100 * 1024
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        assert archive.infolist()[0].file_size == 10 * 1024  # the lie the old check trusted
    with app.test_request_context(), pytest.raises(UploadError) as refused:
        store("logs.zip", bomb)
    assert refused.value.code == "archive" and refused.value.filename == "logs.zip"


def test_an_honest_archive_over_the_ratio_and_a_corrupt_one_are_refused(app):
    honest_bomb = _zip({"zeros.bin": b"\x00" * (40 * 1024 * 1024)})
    corrupt = _zip({"a.txt": b"hello " * 1000})[:-30]
    for data in (honest_bomb, corrupt, b"PK\x03\x04" + b"\x00" * 100):
        with pytest.raises(UploadError) as refused:
            check_archive(data, "archive.zip")
        assert refused.value.code == "archive" and refused.value.filename == "archive.zip"


def test_an_ordinary_archive_and_an_archive_inside_it_are_accepted(app, attachment_store):
    inner = _zip({"inner.log": os.urandom(2000)})
    good = _zip({"report.txt": "Отчёт об ошибке\n".encode() * 500, "more.zip": inner})
    with app.test_request_context():
        stored = store("report.zip", good)
        assert stored.content_type == "application/zip" and stored.filename == "report.zip"
        db.session.commit()  # the database store keeps a file with the transaction that uses it
        assert b"".join(attachment_store.chunks(stored.stored_name)) == good
        stored.discard()
        assert not attachment_store.exists(stored.stored_name)


def test_a_refusal_names_the_file_and_a_name_that_cleans_to_nothing_reads_file(
    app, client, people, attachment_store
):
    bomb = _declare_size(_zip({"logs.txt": b"\x00" * (40 * 1024 * 1024)}), 10 * 1024)
    sign_in(client, people["customer"])
    url = f"/requests/{people['number']}"
    for name, shown in (("журнал.zip", "«журнал.zip»"), ("\x01\x02/..", "«file»")):
        token = csrf_token(client, url)
        response = client.post(
            f"{url}/reply",
            data={"csrf_token": token, "body": "архив", "files": (io.BytesIO(bomb), name)},
            content_type="multipart/form-data",
        )
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert shown in page.replace("“", "«").replace("”", "»"), page[-3000:]
        assert "«»" not in page and "“”" not in page


# 6. The search page has a rate limit


def test_the_search_page_is_rate_limited_with_a_friendly_page(app, client):
    app.config["PORTAL_RATE_LIMITS"] = True
    address = f"10.{os.getpid() % 250}.{int(time.time()) % 250}.9"
    try:
        statuses = [
            client.get("/search?q=", environ_base={"REMOTE_ADDR": address}).status_code
            for _ in range(121)
        ]
        assert statuses[:120] == [200] * 120 and statuses[-1] == 429
        response = client.get("/search?q=crm", environ_base={"REMOTE_ADDR": address})
        assert response.status_code == 429 and "text/html" in response.content_type
        assert "Слишком много" in response.get_data(as_text=True)
        other = client.get("/search?q=", environ_base={"REMOTE_ADDR": address + "0"})
        assert other.status_code == 200
    finally:
        app.config["PORTAL_RATE_LIMITS"] = False
        with app.app_context():
            limiter.reset()
