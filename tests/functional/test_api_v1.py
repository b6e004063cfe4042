"""The integration API at /api/v1: tokens, who sees what, filing, replies, status, articles,
JSON errors, and the OpenAPI document (validated, complete, and fuzzed by schemathesis)."""

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import func, select

from portal.accounts.models import Organisation, User
from portal.api_v1.models import ApiToken
from portal.api_v1.services import issue_token, revoke_token, user_for_token
from portal.clock import aware, utcnow
from portal.coupons import services as coupons
from portal.extensions import db, limiter
from portal.tickets.models import Ticket
from portal.tickets.services import NewTicket, file_ticket
from tests.factories import make_org, make_user, sign_in

OUT_OF_SCOPE = "Please install the product on our server, we have bought a license"


@dataclass
class People:
    """Tokens of a customer, a colleague, their organisation's admin, a stranger and an agent."""

    author: str
    colleague: str
    org_admin: str
    stranger: str
    agent: str
    author_id: int
    org_id: int


@pytest.fixture
def people(app) -> People:
    with app.app_context():
        org = make_org("commercial")
        users = {
            "author": make_user(org=org),
            "colleague": make_user(org=org),
            "org_admin": make_user(org=org, is_org_admin=True),
            "stranger": make_user(org=make_org("partner")),
            "agent": make_user("agent"),
        }
        tokens = {name: issue_token(user, f"{name} token")[1] for name, user in users.items()}
        return People(**tokens, author_id=users["author"].id, org_id=org.id)


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def file_for(app, user_id: int, **fields) -> str:
    """A ticket filed through the common function; its number."""
    values = {"title": "Не приходят письма", "description": "Письма из CRM не доходят"}
    with app.app_context():
        author = db.session.get(User, user_id)
        ticket = file_ticket(NewTicket(author=author, category="general", **(values | fields)))
        return ticket.number


def new_request(**fields) -> dict:
    return {
        "title": "Deals do not move between stages",
        "description": "When I drag a deal to the next stage it jumps back after a second.",
        "category": "crm",
    } | fields


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    return error


# -- tokens ------------------------------------------------------------------------------


def test_a_token_is_stored_as_a_prefix_and_a_hash_only(app):
    with app.app_context():
        user = make_user()
        token, secret = issue_token(user, "  CRM   sync ")
        assert re.fullmatch(r"pt_[0-9a-f]{8}_[A-Za-z0-9_-]{43}", secret)
        assert secret.startswith(f"pt_{token.prefix}_")
        assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert token.name == "CRM sync"
        stored = db.session.execute(select(ApiToken.__table__)).one()._asdict()
        assert secret not in {str(v) for v in stored.values()}
        with pytest.raises(ValueError):
            issue_token(user, "   ")


def test_last_use_is_written_at_most_once_a_minute(app):
    with app.app_context():
        user = make_user()
        token, secret = issue_token(user, "sync")
        start = utcnow()
        assert user_for_token(secret, now=start).id == user.id
        assert aware(token.last_used_at) == start
        user_for_token(secret, now=start + dt.timedelta(seconds=59))
        assert aware(token.last_used_at) == start
        user_for_token(secret, now=start + dt.timedelta(seconds=61))
        assert aware(token.last_used_at) == start + dt.timedelta(seconds=61)


def test_missing_bad_revoked_or_inactive_tokens_get_401(app, client, people):
    with app.app_context():
        user = make_user()
        revoked, revoked_secret = issue_token(user, "old")
        revoke_token(revoked)
        inactive = make_user(active=False)
        inactive_secret = issue_token(inactive, "gone")[1]
        assert user_for_token(revoked_secret) is None
    wrong = people.author[:-4] + ("aaaa" if not people.author.endswith("aaaa") else "bbbb")
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": f"Basic {people.author}"},
        auth(wrong),
        auth(revoked_secret),
        auth(inactive_secret),
        auth("pt_\x00"),
    ):
        response = client.get("/api/v1/tickets", headers=headers)
        assert_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/tickets", headers=auth(people.author)).status_code == 200


def test_a_session_cookie_is_not_a_token_and_csrf_is_not_needed(app, client, people):
    with app.app_context():
        user = make_user()
    sign_in(client, user)
    assert_error(client.get("/api/v1/tickets"), 401, "unauthorized")
    # no CSRF token, yet the POST goes through: the bearer token is the credential
    response = client.post("/api/v1/tickets", json=new_request(), headers=auth(people.author))
    assert response.status_code == 201


# -- who sees what -------------------------------------------------------------------------


def test_only_those_who_may_see_a_ticket_can_read_reply_to_or_move_it(app, client, people):
    number = file_for(app, people.author_id)
    missing = f"{number[:4]}-999999"
    reply = {"body": "Any news?"}
    for token, allowed in (
        (people.author, True),
        (people.org_admin, True),
        (people.agent, True),
        (people.colleague, False),
        (people.stranger, False),
    ):
        headers = auth(token)
        read = client.get(f"/api/v1/tickets/{number}", headers=headers)
        replied = client.post(f"/api/v1/tickets/{number}/replies", json=reply, headers=headers)
        if allowed:
            assert read.status_code == 200 and read.get_json()["number"] == number
            assert replied.status_code == 201
            continue
        hidden = assert_error(read, 404, "not_found")
        assert hidden == assert_error(
            client.get(f"/api/v1/tickets/{missing}", headers=headers), 404, "not_found"
        )  # the same answer as for a ticket that does not exist
        assert_error(replied, 404, "not_found")
        moved = client.post(
            f"/api/v1/tickets/{number}/status", json={"status": "closed"}, headers=headers
        )
        assert_error(moved, 404, "not_found")
    with app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket.status != "closed" and len(ticket.messages) == 4


def test_the_list_holds_what_the_caller_may_see(app, client, people):
    own = file_for(app, people.author_id)
    with app.app_context():
        colleague_id = make_user(org=db.session.get(Organisation, people.org_id)).id
    colleagues = file_for(app, colleague_id)

    def numbers(token):
        response = client.get("/api/v1/tickets", headers=auth(token))
        assert response.status_code == 200
        return {t["number"] for t in response.get_json()["items"]}

    assert numbers(people.author) == {own}
    assert numbers(people.org_admin) == {own, colleagues}
    assert numbers(people.agent) == {own, colleagues}
    assert numbers(people.stranger) == set()


def test_tickets_come_in_pages(app, client, people):
    for n in range(25):
        file_for(app, people.author_id, title=f"Request number {n}")
    headers = auth(people.author)
    first = client.get("/api/v1/tickets?per_page=10", headers=headers).get_json()
    assert (first["page"], first["per_page"], first["total"], len(first["items"])) == (
        1,
        10,
        25,
        10,
    )
    last = client.get("/api/v1/tickets?per_page=10&page=3", headers=headers).get_json()
    assert len(last["items"]) == 5
    beyond = client.get("/api/v1/tickets?per_page=10&page=4", headers=headers).get_json()
    assert beyond["items"] == [] and beyond["total"] == 25
    seen = [
        t["number"]
        for p in (1, 2, 3)
        for t in client.get(f"/api/v1/tickets?per_page=10&page={p}", headers=headers).get_json()[
            "items"
        ]
    ]
    assert len(set(seen)) == 25
    for query in ("per_page=101", "per_page=0", "page=0", "page=x"):
        error = assert_error(
            client.get(f"/api/v1/tickets?{query}", headers=headers), 400, "invalid_parameter"
        )
        assert set(error["fields"]) == {query.split("=")[0]}


def test_tickets_are_filtered(app, client, people):
    mail = file_for(app, people.author_id, title="Почта не работает", criticality="high")
    other = file_for(app, people.author_id, title="Отчёт по сделкам пустой")
    with app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == other))
        ticket.status, ticket.category, ticket.service_level = "resolved", "crm", "consultation"
        db.session.commit()
    headers = auth(people.author)

    def numbers(query):
        response = client.get(f"/api/v1/tickets?{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return [t["number"] for t in response.get_json()["items"]]

    assert numbers("status=resolved") == [other]
    assert numbers("category=general") == [mail]
    assert numbers("criticality=high") == [mail]
    assert numbers("service_level=consultation") == [other]
    assert numbers("q=ПОЧТА") == [mail]
    assert numbers(f"q={other[-6:]}") == [other]
    assert numbers("q=100%25") == []  # wildcards are literal
    for query in ("status=lost", "category=nope", "criticality=urgent", "q=%00"):
        assert_error(
            client.get(f"/api/v1/tickets?{query}", headers=headers), 400, "invalid_parameter"
        )


# -- filing ----------------------------------------------------------------------------------


def test_a_customer_files_a_request(app, client, people):
    response = client.post(
        "/api/v1/tickets",
        json=new_request(
            category="telephony",
            criticality="high",
            details={"phone_number": "+7 495 123-45-67", "call_time": "2026-11-20T15:30"},
        ),
        headers=auth(people.author),
    )
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert response.headers["Location"] == f"/api/v1/tickets/{data['number']}"
    assert (data["category"], data["criticality"], data["channel"], data["status"]) == (
        "telephony",
        "high",
        "web",
        "new",
    )
    assert data["details"] == {"phone_number": "+7 495 123-45-67", "call_time": "2026-11-20 15:30"}
    assert data["tier"] == "commercial" and data["response_due"]
    assert [m["body"] for m in data["messages"]] == [new_request()["description"]]
    assert client.get(response.headers["Location"], headers=auth(people.author)).status_code == 200


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"description": "x" * 30, "category": "crm"}, {"title"}),
        (new_request(title="   ", description="short"), {"title", "description"}),
        (new_request(category="astrology"), {"category"}),
        (new_request(criticality="urgent"), {"criticality"}),
        (new_request(title=12345), {"title"}),
        (new_request(priority="high"), {"priority"}),
        (new_request(coupon="ABC;DROP"), {"coupon"}),
        (new_request(title="Null \x00 byte inside"), {"title"}),
        (json.dumps(new_request(title="Lone \ud800 surrogate")), {"title"}),
        (new_request(category="telephony"), {"details.phone_number"}),
        (
            new_request(category="telephony", details={"phone_number": "call me"}),
            {"details.phone_number"},
        ),
        (new_request(details={"colour": "red"}), {"details.colour"}),
        (new_request(details=["a"]), {"details"}),
    ],
)
def test_invalid_requests_get_400_with_the_fields(app, client, people, body, fields):
    if isinstance(body, str):  # JSON text as sent, e.g. with an escaped lone surrogate
        response = client.post(
            "/api/v1/tickets",
            data=body,
            content_type="application/json",
            headers=auth(people.author),
        )
    else:
        response = client.post("/api/v1/tickets", json=body, headers=auth(people.author))
    error = assert_error(response, 400, "invalid_parameter")
    assert set(error["fields"]) == fields
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_only_json_objects_are_accepted(app, client, people):
    headers = auth(people.author)
    assert_error(
        client.post("/api/v1/tickets", data="title=x", headers=headers),
        415,
        "unsupported_media_type",
    )
    for raw in ("{not json", "[1, 2]", ""):
        response = client.post(
            "/api/v1/tickets", data=raw, content_type="application/json", headers=headers
        )
        assert_error(response, 400, "invalid_json")


def test_only_customers_file_requests(app, client, people):
    response = client.post("/api/v1/tickets", json=new_request(), headers=auth(people.agent))
    assert_error(response, 403, "forbidden")


def test_work_out_of_scope_is_refused_with_the_reason_unless_it_is_a_malfunction(
    app, client, people
):
    with app.app_context():
        customer = make_user()  # non-commercial: installing is not support's work
        token = issue_token(customer, "sync")[1]
    body = new_request(title="Install the product", description=OUT_OF_SCOPE)
    error = assert_error(
        client.post("/api/v1/tickets", json=body, headers=auth(token)), 422, "out_of_scope"
    )
    assert error["rule"] and error["links"] and all(link["url"] for link in error["links"])
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0
    body["malfunction"] = "The installer crashes with error 500 on the licence step."
    response = client.post("/api/v1/tickets", json=body, headers=auth(token))
    assert response.status_code == 201
    assert response.get_json()["details"]["scope_note"] == body["malfunction"]
    with app.app_context():
        assert db.session.scalar(select(Ticket.scope_review)) is True


def test_coupons_are_checked_like_on_the_web(app, client, people):
    headers = auth(people.author)
    error = assert_error(
        client.post("/api/v1/tickets", json=new_request(coupon="NOSUCHCOUPON1"), headers=headers),
        422,
        "coupon_rejected",
    )
    assert error["reason"] == "not_found"
    with app.app_context():
        org = db.session.get(Organisation, people.org_id)
        code = coupons.issue(org).code
        db.session.commit()
    response = client.post("/api/v1/tickets", json=new_request(coupon=code), headers=headers)
    assert response.status_code == 201
    assert response.get_json()["service_level"] == "special"


# -- replies and status ----------------------------------------------------------------------


def test_replies_and_internal_notes(app, client, people):
    number = file_for(app, people.author_id)
    url = f"/api/v1/tickets/{number}"
    customer, agent = auth(people.author), auth(people.agent)
    reply = client.post(f"{url}/replies", json={"body": "More details"}, headers=customer)
    assert reply.status_code == 201
    assert reply.get_json()["body"] == "More details" and not reply.get_json()["by_staff"]
    assert_error(
        client.post(f"{url}/replies", json={"body": "psst", "internal": True}, headers=customer),
        403,
        "forbidden",
    )
    note = client.post(
        f"{url}/replies", json={"body": "Check logs", "internal": True}, headers=agent
    )
    assert note.status_code == 201 and note.get_json()["internal"] is True
    answer = client.post(f"{url}/replies", json={"body": "Fixed it"}, headers=agent)
    assert answer.get_json()["by_staff"] is True
    seen_by_customer = [m["body"] for m in client.get(url, headers=customer).get_json()["messages"]]
    seen_by_agent = [m["body"] for m in client.get(url, headers=agent).get_json()["messages"]]
    assert "Check logs" not in seen_by_customer and "Check logs" in seen_by_agent
    assert seen_by_customer[-1] == "Fixed it"
    for body in ({"body": "  "}, {"body": 7}, {"body": "x", "internal": "yes"}, {}):
        assert_error(
            client.post(f"{url}/replies", json=body, headers=agent), 400, "invalid_parameter"
        )


def test_status_changes_by_role(app, client, people):
    number = file_for(app, people.author_id)
    url = f"/api/v1/tickets/{number}/status"
    customer, agent = auth(people.author), auth(people.agent)
    assert_error(client.post(url, json={"status": "resolved"}, headers=customer), 403, "forbidden")
    assert_error(client.post(url, json={"status": "closed"}, headers=agent), 403, "forbidden")
    assert_error(client.post(url, json={"status": "lost"}, headers=agent), 400, "invalid_parameter")
    moved = client.post(url, json={"status": "waiting_customer"}, headers=agent)
    assert moved.status_code == 200 and moved.get_json()["status"] == "waiting_customer"
    closed = client.post(url, json={"status": "closed"}, headers=customer)
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    late = client.post(
        f"/api/v1/tickets/{number}/replies", json={"body": "one more"}, headers=customer
    )
    assert_error(late, 422, "ticket_closed")


# -- JSON everywhere ---------------------------------------------------------------------------


def test_errors_are_json_everywhere_under_the_api(app, client, people, monkeypatch):
    headers = auth(people.author)
    assert_error(client.get("/api/v1/no-such-thing", headers=headers), 404, "not_found")
    assert_error(client.delete("/api/v1/tickets", headers=headers), 405, "method_not_allowed")
    huge = {"title": "Big one", "description": "x" * (1024 * 1024), "category": "crm"}
    assert_error(
        client.post("/api/v1/tickets", json=huge, headers=headers), 413, "payload_too_large"
    )
    monkeypatch.setitem(app.config, "PORTAL_RATE_LIMITS", True)
    monkeypatch.setitem(app.config, "PORTAL_API_RATE_LIMIT", "2 per minute")
    with app.app_context():
        limiter.reset()
    assert client.get("/api/v1/tickets", headers=headers).status_code == 200
    assert client.get("/api/v1/tickets", headers=headers).status_code == 200
    limited = client.get("/api/v1/tickets", headers=headers)
    assert_error(limited, 429, "rate_limited")
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert client.get("/api/v1/tickets", headers=auth(people.agent)).status_code == 200
    with app.app_context():
        limiter.reset()


# -- articles ----------------------------------------------------------------------------------


def test_articles_are_searched_and_listed(client, people):
    headers = auth(people.author)
    found = client.get("/api/v1/articles?q=обращения&lang=ru", headers=headers).get_json()
    assert found["total"] > 0 and found["query"] == "обращения"
    assert {hit["lang"] for hit in found["items"]} == {"ru"}
    assert "kak-podat-obrashchenie" in [hit["slug"] for hit in found["items"]]
    typo = client.get("/api/v1/articles?q=пароьл", headers=headers).get_json()
    assert typo["suggestion"] == "пароль"
    listed = client.get("/api/v1/articles?lang=en&per_page=5&page=2", headers=headers).get_json()
    assert len(listed["items"]) == 5 and listed["total"] >= 30 and listed["query"] == ""
    assert all(hit["score"] is None and hit["lang"] == "en" for hit in listed["items"])
    assert_error(client.get("/api/v1/articles?lang=de", headers=headers), 400, "invalid_parameter")


def test_an_article_has_its_markdown_and_sanitised_html(client, people):
    response = client.get("/api/v1/articles/kak-podat-obrashchenie", headers=auth(people.author))
    article = response.get_json()
    assert response.status_code == 200
    assert article["lang"] == "ru" and article["url"] == "/kb/kak-podat-obrashchenie"
    assert article["markdown"].lstrip().startswith(("#", article["markdown"].lstrip()[:1]))
    assert "<h2" in article["html"] and "<script" not in article["html"]
    assert_error(
        client.get("/api/v1/articles/no-such-article", headers=auth(people.author)),
        404,
        "not_found",
    )


# -- the OpenAPI document ------------------------------------------------------------------------


def test_the_document_is_valid_openapi_and_needs_no_token(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    assert document["openapi"].startswith("3.0")
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_every_api_route_is_in_the_document(app, client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    routes = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1")]
    assert routes
    for rule in routes:
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        assert path in paths, path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = paths[path].get(method.lower())
            assert operation, f"{method} {path}"
            assert "401" in operation["responses"] or operation.get("security") == []
    documented = {(p, m) for p, ops in paths.items() for m in ops}
    served = {
        (re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", r.rule), m.lower())
        for r in routes
        for m in r.methods - {"HEAD", "OPTIONS"}
    }
    assert documented == served


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
FUZZ = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def test_schemathesis_finds_no_server_error_and_every_answer_matches_the_document(
    app, people, monkeypatch
):
    number = file_for(app, people.author_id)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = auth(people.author)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} >= {
        "GET /api/v1/tickets",
        "POST /api/v1/tickets",
        "GET /api/v1/tickets/{number}",
        "POST /api/v1/tickets/{number}/replies",
        "POST /api/v1/tickets/{number}/status",
        "GET /api/v1/articles",
        "GET /api/v1/articles/{slug}",
    }
    for operation in operations:
        variants = [{}]
        if "{number}" in operation.path:
            variants.append({"path_parameters": {"number": number}})  # a ticket that exists
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            for extra in variants:

                @FUZZ
                @given(case=operation.as_strategy(generation_mode=mode, **extra))
                def call(case):
                    response = case.call(headers=headers)
                    case.validate_response(response, checks=CHECKS, headers=headers)

                call()
