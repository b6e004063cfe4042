"""The integration REST API at `/api/v1`: bearer tokens, JSON in and out, JSON errors.

Described in `openapi.py` (served at `/api/v1/openapi.json`). Unknown paths and wrong
methods under `/api/` get JSON from `portal/site/views.py`.
"""

import hashlib

from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from portal.accounts.services import AccountError
from portal.accounts.views import account_error_message
from portal.api_v1 import services
from portal.api_v1.forms import (
    ArticleQueryForm,
    ReplyForm,
    StatusForm,
    TicketForm,
    TicketQueryForm,
    details_from_json,
    from_json,
)
from portal.api_v1.openapi import document
from portal.coupons.services import CouponError
from portal.extensions import csrf, limiter
from portal.forms import choices
from portal.kb.api import results_json
from portal.kb.index import IndexMissing
from portal.kb.services import rendered, search_index
from portal.tickets import conversation
from portal.tickets.categories import configured_categories as categories
from portal.tickets.filing import OutOfScope
from portal.tickets.messages import coupon_error_message
from portal.tickets.payloads import message_data, ticket_data
from portal.tickets.services import TicketError

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # a bearer token, never a cookie, authenticates: there is nothing to forge
MAX_JSON_BYTES = 1024 * 1024
PUBLIC_ENDPOINTS = {"api_v1.openapi"}
ERROR_CODES = {
    400: "invalid_parameter",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


class ApiError(Exception):
    """An error answer: the HTTP status, a stable code, a message and extra members."""

    def __init__(self, status: int, code: str, message: str, headers=None, **extra):
        super().__init__(code)
        self.status, self.code, self.message = status, code, str(message)
        self.headers, self.extra = headers or {}, extra


def _api_client() -> str:
    """Rate-limit key: the token presented (hashed), else the client address."""
    header = request.headers.get("Authorization", "")
    if header:
        return "api:" + hashlib.sha256(header.encode()).hexdigest()[:24]
    return "api-ip:" + (request.remote_addr or "")


# One budget per token across every worker and host (Redis when PORTAL_REDIS_URL is set).
limiter.limit(lambda: current_app.config["PORTAL_API_RATE_LIMIT"], key_func=_api_client)(bp)


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    response = jsonify(error={"code": error.code, "message": error.message, **error.extra})
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


def http_error(error: HTTPException):
    """Whatever Flask or Werkzeug raise inside the API (a body too large, a 500) as JSON."""
    messages = {
        400: _("The request could not be understood."),
        404: _("Not found."),
        413: _("The body is larger than 1 MB."),
        429: _("Too many requests with this token. Wait a minute and try again."),
    }
    status = error.code or 500
    code = ERROR_CODES.get(status, "internal_error" if status >= 500 else "error")
    return api_error(ApiError(status, code, messages.get(status, error.name)))


# Flask prefers a handler for a status code, even the site's app-wide one, to a handler for
# an exception class: the API's own take the codes the site handles, and the class the rest.
# (Unknown paths and wrong methods never reach a blueprint: the site answers them in JSON.)
for _status in (400, 404, 413, 429, 500):
    bp.register_error_handler(_status, http_error)
bp.register_error_handler(HTTPException, http_error)


@bp.errorhandler(IndexMissing)
def index_missing(_error):
    message = _("The search index has not been built yet. Please try again in a minute.")
    return api_error(ApiError(503, "index_unavailable", message))


@bp.before_request
def authenticate():
    """Every call but the OpenAPI document needs a live token."""
    request.max_content_length = MAX_JSON_BYTES
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    scheme, _sep, secret = request.headers.get("Authorization", "").partition(" ")
    user = services.user_for_token(secret.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        raise ApiError(
            401,
            "unauthorized",
            _("Send a valid API token: Authorization: Bearer <token>."),
            headers={"WWW-Authenticate": 'Bearer realm="portal"'},
        )
    g.api_user = user


def invalid(problems: dict) -> ApiError:
    fields = {name: [str(e) for e in errors] for name, errors in problems.items()}
    message = _("Invalid parameters: %(names)s", names=", ".join(sorted(fields)))
    return ApiError(400, "invalid_parameter", message, fields=fields)


def validated(form, problems: dict | None = None) -> None:
    """Raise 400 with every field's problems unless the form and the JSON types are valid."""
    form.validate()
    problems = {**form.errors, **(problems or {})}
    if problems:
        raise invalid(problems)


def json_body() -> dict:
    """The request's JSON object (at most MAX_JSON_BYTES)."""
    if not request.is_json:
        raise ApiError(
            415,
            "unsupported_media_type",
            _("Send the body as JSON (Content-Type: application/json)."),
        )
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiError(400, "invalid_json", _("The body must be a JSON object."))
    return payload


def visible_ticket(number: str):
    ticket = services.ticket_for(g.api_user, number)
    if ticket is None:
        raise ApiError(404, "not_found", _("There is no such request."))
    return ticket


def ticket_with_messages(ticket) -> dict:
    """The ticket and its messages oldest first (internal notes for staff only)."""
    thread = conversation.thread(ticket, g.api_user)
    messages = [message_data(item) for kind, item in thread if kind == "message"]
    return {**ticket_data(ticket), "messages": messages}


@bp.get("/tickets")
def tickets():
    form = TicketQueryForm(request.args)
    form.category.choices = choices([("", "")] + [(c, c) for c in categories()])
    validated(form)
    page, per_page = form.page.data or 1, form.per_page.data or 20
    filters = services.TicketFilters(
        status=form.status.data or None,
        category=form.category.data or None,
        criticality=form.criticality.data or None,
        service_level=form.service_level.data or None,
        text=form.q.data or None,
    )
    found, total = services.list_tickets(g.api_user, filters, page, per_page)
    items = [ticket_data(t) for t in found]
    return jsonify(items=items, page=page, per_page=per_page, total=total)


def new_request_fields(payload: dict) -> services.RequestFields:
    """A new request from the JSON body: the wizard's checks, or 400 naming every bad field."""
    form, problems = from_json(TicketForm, {k: v for k, v in payload.items() if k != "details"})
    form.category.choices = choices([(c, c) for c in categories()])
    form.validate()
    problems = {**form.errors, **problems}
    details = {}
    if "category" not in problems:
        category = categories()[form.category.data]
        details, detail_problems = details_from_json(category, payload.get("details"))
        problems.update(detail_problems)
    if problems:
        raise invalid(problems)
    return services.RequestFields(
        title=form.title.data,
        description=form.description.data,
        category=form.category.data,
        criticality=form.criticality.data,
        coupon=form.coupon.data or None,
        details=details,
        malfunction=form.malfunction.data or None,
    )


@bp.post("/tickets")
def create_ticket():
    if g.api_user.role != "customer":
        raise ApiError(403, "forbidden", _("Only customers file requests."))
    fields = new_request_fields(json_body())
    try:
        ticket = services.file_request(g.api_user, fields)
    except AccountError as error:
        raise ApiError(403, "email_unconfirmed", account_error_message(error)) from None
    except OutOfScope as error:
        scope = error.scope
        links = [dict(link) for link in scope.links]
        raise ApiError(422, "out_of_scope", scope.reason, rule=scope.rule, links=links) from None
    except CouponError as error:
        message = coupon_error_message(error.code)
        raise ApiError(422, "coupon_rejected", message, reason=error.code) from None
    except TicketError as error:  # the form already checks what file_ticket refuses
        field = error.code if error.code in ("title", "description") else "criticality"
        raise invalid({field: [_("This value cannot be filed.")]}) from None
    response = jsonify(ticket_with_messages(ticket))
    response.status_code = 201
    response.headers["Location"] = url_for("api_v1.ticket", number=ticket.number)
    return response


@bp.get("/tickets/<number>")
def ticket(number):
    return jsonify(ticket_with_messages(visible_ticket(number)))


@bp.post("/tickets/<number>/replies")
def reply(number):
    ticket = visible_ticket(number)
    form, problems = from_json(ReplyForm, json_body())
    validated(form, problems)
    if form.internal.data and not g.api_user.is_staff:
        raise ApiError(403, "forbidden", _("Only support staff write internal notes."))
    try:
        message = conversation.post_reply(ticket, g.api_user, form.body.data, form.internal.data)
    except TicketError as error:
        if error.code == "done":
            text = _("The request is closed. Continue the discussion to reopen it.")
            raise ApiError(422, "ticket_closed", text) from None
        raise invalid({"body": [_("Write a message or attach a file.")]}) from None
    response = jsonify(message_data(message))
    response.status_code = 201
    return response


@bp.post("/tickets/<number>/status")
def status(number):
    ticket = visible_ticket(number)
    form, problems = from_json(StatusForm, json_body())
    validated(form, problems)
    try:
        services.change_status(ticket, g.api_user, form.status.data)
    except services.StatusNotAllowed:
        text = _(
            "Support staff set open, waiting_customer or resolved; customers may only close "
            "a request."
        )
        raise ApiError(403, "forbidden", text) from None
    return jsonify(ticket_with_messages(ticket))


def article_hit(article) -> dict:
    """A listed article in the shape of a search hit (its summary as the snippet)."""
    return {
        "slug": article.slug,
        "title": article.title,
        "url": url_for("kb.article", slug=article.slug),
        "snippet": article.summary,
        "category": article.category,
        "lang": article.lang,
        "score": None,
    }


@bp.get("/articles")
def articles():
    form = ArticleQueryForm(request.args)
    validated(form)
    page, per_page = form.page.data or 1, form.per_page.data or 10
    lang, category, query = form.lang.data or None, form.category.data or None, form.q.data
    if query and query.strip():
        results = results_json(
            search_index().search(query, lang=lang, category=category, page=page, per_page=per_page)
        )
        return jsonify(
            items=results["results"],
            page=page,
            per_page=per_page,
            total=results["total"],
            query=results["query"],
            suggestion=results["suggestion"],
        )
    listed = search_index().articles(lang=lang, category=category)
    chunk = listed[(page - 1) * per_page : page * per_page]
    return jsonify(
        items=[article_hit(a) for a in chunk],
        page=page,
        per_page=per_page,
        total=len(listed),
        query="",
        suggestion=None,
    )


@bp.get("/articles/<slug>")
def article(slug):
    found = search_index().article(slug)
    if found is None:
        raise ApiError(404, "not_found", _("No such article."))
    return jsonify(
        slug=found.slug,
        title=found.title,
        summary=found.summary,
        lang=found.lang,
        category=found.category,
        tags=found.tags,
        updated=found.updated.isoformat(),
        translation_of=found.translation_of,
        url=url_for("kb.article", slug=found.slug),
        markdown=found.source,
        html=rendered(found).html,
    )


@bp.get("/openapi.json")
def openapi():
    return jsonify(document(list(categories())))
