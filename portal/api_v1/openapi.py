"""The OpenAPI 3.0 description of `/api/v1`, written by hand and served at
`/api/v1/openapi.json`. A test checks it against the specification, against the app's
routes, and runs schemathesis over it."""

from portal.api_v1.forms import MAX_PER_PAGE
from portal.api_v1.schemas import (
    NUMBER_PATTERN,
    RESPONSES,
    SCHEMAS,
    enum,
    json_content,
    ref,
)
from portal.api_v1.webhooks import EVENTS
from portal.sla import SERVICE_LEVELS
from portal.tickets.models import CRITICALITIES, STATUSES

DESCRIPTION = f"""\
Integration API of the support portal: the caller's tickets, filing requests, replies and
status changes, and the knowledge base.

**Authentication.** Every call except this document needs `Authorization: Bearer <token>`.
A token (`pt_<prefix>_<secret>`) acts as the user it was issued to and sees what that user
sees: customers their own requests (an organisation's administrator the organisation's),
support staff all. A ticket the caller may not see answers 404, like a missing one.

**Errors** are JSON `{{"error": {{"code": "...", "message": "..."}}}}` with the HTTP status:
400 `invalid_parameter` (with `fields`: parameter → messages) or `invalid_json`,
401 `unauthorized`, 403 `forbidden`, 404 `not_found`, 405 `method_not_allowed`,
413 `payload_too_large` (bodies up to 1 MB), 415 `unsupported_media_type`,
422 `out_of_scope` (the message says why; with the `rule` and help `links`),
`coupon_rejected` (with `reason`) or `ticket_closed`, 429 `rate_limited` (with
`Retry-After`).

**Webhooks.** Each configured webhook receives a POST of JSON
`{{"event", "occurred_at", "ticket", "message"?}}` for the events it subscribes to
({", ".join(f"`{e}`" for e in EVENTS)}), with the headers `X-Portal-Event`,
`X-Portal-Delivery` (the delivery's id: the same on every retry) and
`X-Portal-Signature: sha256=<hex HMAC-SHA256 of the raw body with the webhook's secret>`.
Answer 2xx within 10 seconds; other answers are retried with growing pauses (a 4xx other
than 408 and 429 is final), up to 8 attempts.
"""


RESPONSE_NAMES = {
    "400": "InvalidParameter",
    "401": "Unauthorized",
    "403": "Forbidden",
    "404": "NotFound",
    "413": "TooLarge",
    "415": "UnsupportedMediaType",
    "422": "Unprocessable",
    "429": "RateLimited",
    "503": "Unavailable",
}


def _responses(ok_status: str, ok: dict, *errors: str) -> dict:
    """The success response, the named errors, and 401 and 429 that every call may get."""
    found = {ok_status: ok}
    for status in ("401", *errors, "429"):
        found[status] = {"$ref": f"#/components/responses/{RESPONSE_NAMES[status]}"}
    return dict(sorted(found.items()))


def _param(name: str, schema: dict, description: str, where: str = "query") -> dict:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": schema,
    }


NUMBER = _param(
    "number",
    {"type": "string", "pattern": NUMBER_PATTERN},
    "The ticket number, e.g. 2026-000123.",
    "path",
)


def _page_params(default: int, max_page: int) -> list[dict]:
    return [
        _param(
            "page",
            {"type": "integer", "minimum": 1, "maximum": max_page, "default": 1},
            "Page number.",
        ),
        _param(
            "per_page",
            {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": default},
            f"Items per page (at most {MAX_PER_PAGE}).",
        ),
    ]


def _body(name: str, description: str) -> dict:
    return {
        "required": True,
        "description": description,
        "content": {"application/json": {"schema": ref(name)}},
    }


def _links(*operations: str) -> dict:
    return {
        op: {"operationId": op, "parameters": {"number": "$response.body#/number"}}
        for op in operations
    }


def document(categories: list[str]) -> dict:
    """The OpenAPI document; `categories` are the configured problem types."""
    new_ticket = SCHEMAS["NewTicket"]
    properties = dict(new_ticket["properties"])
    properties["category"] = {**properties["category"], "enum": list(categories)}
    schemas = {**SCHEMAS, "NewTicket": {**new_ticket, "properties": properties}}
    ticket_result = json_content(ref("TicketWithMessages"), "The ticket with its thread.")
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Support portal integration API",
            "version": "1.0.0",
            "description": DESCRIPTION,
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "tags": [
            {"name": "tickets", "description": "Requests and their threads."},
            {"name": "articles", "description": "The knowledge base."},
            {"name": "meta", "description": "This document."},
        ],
        "paths": {
            "/api/v1/tickets": {
                "get": {
                    "operationId": "listTickets",
                    "tags": ["tickets"],
                    "summary": "The caller's visible tickets, last activity first",
                    "parameters": [
                        _param("status", enum(STATUSES), "Only this status."),
                        _param("category", enum(categories), "Only this problem type."),
                        _param("criticality", enum(CRITICALITIES), "Only this criticality."),
                        _param("service_level", enum(SERVICE_LEVELS), "Only this level."),
                        _param(
                            "q",
                            {"type": "string", "maxLength": 200},
                            "Text in the title, or part of the number.",
                        ),
                        *_page_params(20, 10_000),
                    ],
                    "responses": _responses(
                        "200", json_content(ref("TicketPage"), "A page of tickets."), "400"
                    ),
                },
                "post": {
                    "operationId": "createTicket",
                    "tags": ["tickets"],
                    "summary": "File a request as the token's user (customers only)",
                    "description": "The same checks as the web form: the category's own "
                    "fields, the coupon, and the scope check (422 `out_of_scope` with the "
                    "reason and links unless `malfunction` is given).",
                    "requestBody": _body("NewTicket", "The new request."),
                    "responses": _responses(
                        "201",
                        {
                            **json_content(ref("TicketWithMessages"), "Filed."),
                            "headers": {
                                "Location": {
                                    "description": "The ticket's address in this API.",
                                    "schema": {"type": "string"},
                                }
                            },
                            "links": _links("getTicket", "replyToTicket", "changeTicketStatus"),
                        },
                        "400",
                        "403",
                        "413",
                        "415",
                        "422",
                    ),
                },
            },
            "/api/v1/tickets/{number}": {
                "get": {
                    "operationId": "getTicket",
                    "tags": ["tickets"],
                    "summary": "One ticket with its messages",
                    "parameters": [NUMBER],
                    "responses": _responses("200", ticket_result, "404"),
                }
            },
            "/api/v1/tickets/{number}/replies": {
                "post": {
                    "operationId": "replyToTicket",
                    "tags": ["tickets"],
                    "summary": "Add a message to the thread (an internal note for staff)",
                    "parameters": [NUMBER],
                    "requestBody": _body("NewReply", "The message, in Markdown."),
                    "responses": _responses(
                        "201",
                        json_content(ref("Message"), "Added."),
                        "400",
                        "403",
                        "404",
                        "413",
                        "415",
                        "422",
                    ),
                }
            },
            "/api/v1/tickets/{number}/status": {
                "post": {
                    "operationId": "changeTicketStatus",
                    "tags": ["tickets"],
                    "summary": "Move the ticket: staff open/waiting_customer/resolved, "
                    "customers closed",
                    "parameters": [NUMBER],
                    "requestBody": _body("StatusChange", "The new status."),
                    "responses": _responses(
                        "200", ticket_result, "400", "403", "404", "413", "415"
                    ),
                }
            },
            "/api/v1/articles": {
                "get": {
                    "operationId": "searchArticles",
                    "tags": ["articles"],
                    "summary": "Search the knowledge base; without `q`, list it by title",
                    "parameters": [
                        _param(
                            "q",
                            {"type": "string", "maxLength": 1000},
                            "Query: any text; word forms, order and typos do not matter.",
                        ),
                        _param("lang", enum(("ru", "en")), "Only this language."),
                        _param(
                            "category",
                            {"type": "string", "maxLength": 100},
                            "Only this knowledge-base topic.",
                        ),
                        *_page_params(10, 1000),
                    ],
                    "responses": _responses(
                        "200", json_content(ref("ArticlePage"), "A page of articles."), "400", "503"
                    ),
                }
            },
            "/api/v1/articles/{slug}": {
                "get": {
                    "operationId": "getArticle",
                    "tags": ["articles"],
                    "summary": "One article: its Markdown source and sanitised HTML",
                    "parameters": [
                        _param("slug", {"type": "string", "maxLength": 200}, "The slug.", "path")
                    ],
                    "responses": _responses(
                        "200", json_content(ref("Article"), "The article."), "404", "503"
                    ),
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "tags": ["meta"],
                    "summary": "This document (no token needed)",
                    "security": [],
                    "responses": {
                        "200": json_content({"type": "object"}, "The OpenAPI 3.0 document."),
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token: `pt_<prefix>_<secret>`.",
                }
            },
            "schemas": schemas,
            "responses": RESPONSES,
        },
    }
