"""A generated pass over the HTML side (the REST API has its own, from its OpenAPI document,
in test_api_v1.py): every GET route with hostile path and query values, and every form a
signed-in customer, specialist, editor or administrator can see, posted with hostile
values and a valid CSRF token. Never a 5xx, never a traceback in the body."""

import re
import shutil
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal import create_app
from portal.extensions import db
from portal.tickets.services import NewTicket, file_ticket
from tests.factories import csrf_token, make_org, make_user, sign_in

HOSTILE = [
    "",
    " ",
    "0",
    "-1",
    "²",
    "٣",
    "1_000",
    "99999999999999999999999999",
    "1e309",
    "nan",
    "../../../etc/passwd",
    "..%2F..%2Fportal.db",
    "%00",
    "\x00",
    "\x01\x1b[31mred\x07",
    "\u202etxt.exe",
    "\ud7ff\ufffd\uffff",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "{{7*7}}",
    "[[[[[[[[",
    "2026-13-45",
    "9999-12-31",
    "0001-01-01",
    "2026-000001",
    "x" * 5000,
    "я" * 3000,
]
hostile = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
# Every name a view reads from the query string (forms and request.args).
QUERY_NAMES = [
    "q", "lang", "category", "page", "limit", "status", "criticality", "level", "mine",
    "sort", "date_from", "date_to", "assignee", "tier", "overdue", "after", "ticket",
    "next", "from_search", "feedback", "linked",
]  # fmt: skip
GET_EXAMPLES = settings(
    max_examples=12,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
POST_EXAMPLES = settings(GET_EXAMPLES, max_examples=10)
# Who can reach each part of the site (others only get redirected to sign in).
ROLE_BY_PREFIX = [
    ("/agent", "agent"),
    ("/admin", "admin"),
    ("/editor", "editor"),
    ("/", "customer"),
]
# Forms left out: signing out ends the session the pass runs in.
SKIP_ACTIONS = re.compile(r"^/signout$")


@pytest.fixture
def fuzz_app(app, database_url, kb_dirs, tmp_path):
    """Its own copy of the knowledge base: the editors' forms write article files."""
    articles, index = tmp_path / "articles", tmp_path / "index"
    shutil.copytree(kb_dirs[0], articles)
    shutil.copytree(kb_dirs[1], index, symlinks=True)
    fuzz = create_app(
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
    yield fuzz
    with fuzz.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def world(fuzz_app):
    """A user of every role, a ticket and a draft: real values for path parameters."""
    with fuzz_app.app_context():
        org = make_org("commercial")
        users = {
            "customer": make_user(org=org, is_org_admin=True),
            "agent": make_user("agent"),
            "editor": make_user("editor"),
            "admin": make_user("admin"),
        }
        ticket = file_ticket(
            NewTicket(
                author=users["customer"],
                title="Письма не доходят",
                description="С утра письма из CRM не доходят до клиентов.",
                category="mail",
            )
        )
        return {"users": users, "number": ticket.number, "org_id": org.id}


def signed_in_clients(fuzz_app, world) -> dict:
    clients = {}
    for role, user in world["users"].items():
        client = fuzz_app.test_client()
        sign_in(client, user)
        clients[role] = client
    clients["anonymous"] = fuzz_app.test_client()
    return clients


def client_for(clients: dict, path: str):
    return next(clients[role] for prefix, role in ROLE_BY_PREFIX if path.startswith(prefix))


def assert_sound(response, what):
    body = response.get_data(as_text=True)
    assert response.status_code < 500, (what, response.status_code, body[:300])
    assert "Traceback" not in body, what


def real_values(fuzz_app, world, clients) -> dict:
    """Path values that exist, so the generated ones sit beside pages that really answer."""
    location = clients["customer"].post(
        "/requests/new",
        data={
            "csrf_token": csrf_token(clients["customer"], "/requests/new"),
            "title": "Не проходят звонки через SIP",
            "category": "general",
        },
    )
    draft = re.search(r"/requests/drafts/([^/]+)/", location.headers["Location"]).group(1)
    with fuzz_app.app_context():
        slug = fuzz_app.extensions["kb"].index.articles()[0].slug
    return {
        "number": world["number"],
        "token": draft,
        "slug": slug,
        "org_id": str(world["org_id"]),
        "user_id": str(world["users"]["customer"].id),
        "step": "description",
        "table": "searches",
    }


def path_value(name: str, real: dict):
    return st.one_of(st.just(real.get(name, "1")), hostile)


def fill(rule: str, values: dict) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: quote(values[m.group(1)], safe=""), rule)


def test_every_get_route_survives_hostile_path_and_query_values(fuzz_app, world):
    clients = signed_in_clients(fuzz_app, world)
    real = real_values(fuzz_app, world, clients)
    rules = [
        r
        for r in fuzz_app.url_map.iter_rules()
        if "GET" in r.methods and not r.rule.startswith(("/api/v1/", "/static/"))
    ]
    assert len(rules) > 30
    for rule in rules:
        visits(clients, real, rule)()


def visits(clients: dict, real: dict, rule):
    """A property: GET the rule with generated path values and query strings."""
    names = sorted(rule.arguments)
    path_values = st.fixed_dictionaries({n: path_value(n, real) for n in names})
    query = st.dictionaries(st.sampled_from(QUERY_NAMES), hostile, max_size=6)
    client = client_for(clients, rule.rule)

    @GET_EXAMPLES
    @given(values=path_values, args=query)
    def visit(values, args):
        path = fill(rule.rule, values)
        assert_sound(client.get(path, query_string=args), f"GET {path} {args!r}")
        if not names:
            anonymous = clients["anonymous"].get(path, query_string=args)
            assert_sound(anonymous, f"GET {path} {args!r} (signed out)")

    return visit


class FormFinder(HTMLParser):
    """The POST forms of a page: action and the names of their fields (with choices)."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, dict[str, list[str]]]] = []
        self._fields: dict[str, list[str]] | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._fields = {}
            self.forms.append((attrs.get("action") or "", self._fields))
        elif self._fields is not None and attrs.get("name") and tag in ("input", "textarea"):
            self._fields.setdefault(attrs["name"], []).append(attrs.get("value") or "")
        elif self._fields is not None and tag == "select":
            self._select = attrs.get("name")
            self._fields.setdefault(self._select or "", [])
        elif self._select and tag == "option":
            self._fields[self._select].append(attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._fields = None
        elif tag == "select":
            self._select = None


def forms_on(client, page: str) -> list[tuple[str, dict[str, list[str]]]]:
    finder = FormFinder()
    finder.feed(client.get(page).get_data(as_text=True))
    return [
        (urlsplit(action).path or page, fields)
        for action, fields in finder.forms
        if not SKIP_ACTIONS.match(urlsplit(action).path or page)
    ]


def pages_with_forms(real: dict, world: dict) -> dict[str, list[str]]:
    number, token, slug = real["number"], real["token"], real["slug"]
    return {
        "anonymous": ["/signin", "/signup", "/password/reset", f"/kb/{slug}"],
        "customer": [
            f"/requests/{number}",
            "/requests/new",
            f"/requests/drafts/{token}/subject",
            f"/requests/drafts/{token}/description",
            f"/requests/drafts/{token}/preview",
            "/account/sessions",
            f"/kb/{slug}",
        ],
        "agent": [f"/requests/{number}", "/agent/phone", "/agent/canned"],
        "editor": ["/editor/articles/new", f"/editor/articles/{slug}/edit"],
        "admin": [
            "/admin/calendar",
            "/admin/organisations",
            f"/admin/organisations/{real['org_id']}",
            f"/admin/users/{real['user_id']}",
        ],
    }


def field_value(options: list[str]):
    choices = [o for o in options if o]
    return st.one_of(st.sampled_from(choices), hostile) if choices else hostile


def test_every_form_survives_hostile_values_from_every_role(fuzz_app, world):
    clients = signed_in_clients(fuzz_app, world)
    real = real_values(fuzz_app, world, clients)
    posted = set()
    for role, pages in pages_with_forms(real, world).items():
        client = clients[role]
        for page in pages:
            for action, fields in forms_on(client, page):
                if (role, action, tuple(sorted(fields))) in posted:
                    continue
                posted.add((role, action, tuple(sorted(fields))))
                sends(client, action, fields)()
    assert len(posted) > 20


def sends(client, action: str, fields: dict[str, list[str]]):
    """A property: POST the form with generated values and the page's CSRF token."""
    token = (fields.get("csrf_token") or [""])[0]
    values = st.fixed_dictionaries(
        {n: field_value(o) for n, o in fields.items() if n != "csrf_token"}
    )

    @POST_EXAMPLES
    @given(data=values)
    def send(data):
        response = client.post(action, data={**data, "csrf_token": token})
        assert_sound(response, f"POST {action} {data!r}")

    return send


def test_a_form_without_its_csrf_token_is_refused(fuzz_app, world):
    client = fuzz_app.test_client()
    sign_in(client, world["users"]["customer"])
    response = client.post(
        "/requests/new", data={"title": "Не проходят звонки через SIP", "category": "general"}
    )
    assert response.status_code == 400
    wrong = client.post(
        "/requests/new",
        data={"csrf_token": "forged", "title": "Не проходят звонки", "category": "general"},
    )
    assert wrong.status_code == 400
