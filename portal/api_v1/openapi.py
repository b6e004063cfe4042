"""The OpenAPI 3.0 description of `/api/v1`, written by hand and served at
`/api/v1/openapi.json`. A test checks it against the specification, against the app's
routes, and runs schemathesis over it."""

from portal.accounts.models import TIERS
from portal.api_v1.forms import MAX_PER_PAGE
from portal.api_v1.services import TICKET_NUMBER
from portal.api_v1.webhooks import EVENTS
from portal.tickets.conversation import STAFF_STATUSES
from portal.tickets.models import CHANNELS, CRITICALITIES, SERVICE_LEVELS, STATUSES

NUMBER_PATTERN = f"^{TICKET_NUMBER.pattern}$"

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
422 `out_of_scope` (with `reason` and `links`), `coupon_rejected` (with `reason`) or
`ticket_closed`, 429 `rate_limited` (with `Retry-After`).

**Webhooks.** Each configured webhook receives a POST of JSON
`{{"event", "occurred_at", "ticket", "message"?}}` for the events it subscribes to
({", ".join(f"`{e}`" for e in EVENTS)}), with the headers `X-Portal-Event`,
`X-Portal-Delivery` (the delivery's id: the same on every retry) and
`X-Portal-Signature: sha256=<hex HMAC-SHA256 of the raw body with the webhook's secret>`.
Answer 2xx within 10 seconds; other answers are retried with growing pauses (a 4xx other
than 408 and 429 is final), up to 8 attempts.
"""


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _enum(values, **extra) -> dict:
    return {"type": "string", "enum": list(values), **extra}


DATE_TIME = {"type": "string", "format": "date-time"}
NULLABLE_DATE_TIME = {**DATE_TIME, "nullable": True}

TICKET_PROPERTIES = {
    "number": {"type": "string", "pattern": NUMBER_PATTERN, "example": "2026-000123"},
    "title": {"type": "string"},
    "category": {"type": "string"},
    "details": {
        "type": "object",
        "additionalProperties": True,
        "description": "The category's own fields; `scope_note` on out-of-scope work.",
    },
    "criticality": _enum(CRITICALITIES),
    "service_level": _enum(SERVICE_LEVELS),
    "tier": _enum(TIERS),
    "channel": _enum(CHANNELS),
    "status": _enum(STATUSES),
    "author": {
        "type": "object",
        "required": ["name", "email"],
        "properties": {"name": {"type": "string"}, "email": {"type": "string"}},
    },
    "assignee": {"type": "string", "nullable": True, "description": "The specialist's name."},
    "created_at": DATE_TIME,
    "awaiting_since": {
        **NULLABLE_DATE_TIME,
        "description": "The oldest customer message still waiting for support.",
    },
    "response_due": {**NULLABLE_DATE_TIME, "description": "Answer deadline (SLA)."},
    "first_response_at": NULLABLE_DATE_TIME,
}

SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "example": "invalid_parameter"},
                    "message": {"type": "string"},
                    "fields": {
                        "type": "object",
                        "description": "Invalid parameters and what is wrong with each.",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                    "reason": {
                        "type": "string",
                        "description": "Why a coupon was refused: not_found, expired, "
                        "voided, used_up.",
                    },
                    "rule": {"type": "string", "nullable": True},
                    "links": {"type": "array", "items": _ref("Link")},
                },
            }
        },
    },
    "Link": {
        "type": "object",
        "required": ["title", "url"],
        "properties": {"title": {"type": "string"}, "url": {"type": "string"}},
    },
    "Ticket": {
        "type": "object",
        "required": list(TICKET_PROPERTIES),
        "properties": TICKET_PROPERTIES,
    },
    "TicketWithMessages": {
        "type": "object",
        "required": [*TICKET_PROPERTIES, "messages"],
        "properties": {
            **TICKET_PROPERTIES,
            "messages": {
                "type": "array",
                "items": _ref("Message"),
                "description": "Oldest first; internal notes only for staff.",
            },
        },
    },
    "Message": {
        "type": "object",
        "required": ["id", "author", "by_staff", "internal", "body", "created_at", "attachments"],
        "properties": {
            "id": {"type": "integer"},
            "author": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}},
            },
            "by_staff": {"type": "boolean"},
            "internal": {"type": "boolean"},
            "body": {"type": "string", "description": "Markdown."},
            "created_at": DATE_TIME,
            "attachments": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["filename", "content_type", "size"],
                    "properties": {
                        "filename": {"type": "string"},
                        "content_type": {"type": "string"},
                        "size": {"type": "integer"},
                    },
                },
            },
        },
    },
    "TicketPage": {
        "type": "object",
        "required": ["items", "page", "per_page", "total"],
        "properties": {
            "items": {"type": "array", "items": _ref("Ticket")},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
        },
    },
    "NewTicket": {
        "type": "object",
        "required": ["title", "description", "category"],
        "additionalProperties": False,
        "properties": {
            "title": {"type": "string", "minLength": 5, "maxLength": 200},
            "description": {"type": "string", "minLength": 20, "maxLength": 50_000},
            "category": {"type": "string", "description": "A problem type (see the enum)."},
            "criticality": _enum(CRITICALITIES, default="normal"),
            "coupon": {
                "type": "string",
                "maxLength": 40,
                "pattern": r"^[A-Za-z0-9\s-]+$",
                "description": "A coupon of the caller's organisation: a special request.",
            },
            "details": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "The category's own fields (telephony: phone_number, "
                "call_time as YYYY-MM-DDTHH:MM; mail: mailbox, mail_service; ...).",
            },
            "malfunction": {
                "type": "string",
                "maxLength": 1000,
                "description": "Why the request is a product malfunction. Given for work "
                "the scope check refuses (422 out_of_scope), it files the request "
                "flagged for a specialist's scope review.",
            },
        },
    },
    "NewReply": {
        "type": "object",
        "required": ["body"],
        "additionalProperties": False,
        "properties": {
            "body": {"type": "string", "minLength": 1, "maxLength": 50_000},
            "internal": {
                "type": "boolean",
                "default": False,
                "description": "An internal note customers never see (staff only).",
            },
        },
    },
    "StatusChange": {
        "type": "object",
        "required": ["status"],
        "additionalProperties": False,
        "properties": {
            "status": {
                **_enum((*STAFF_STATUSES, "closed")),
                "description": "Staff: open, waiting_customer, resolved. Customers: closed.",
            }
        },
    },
    "ArticleHit": {
        "type": "object",
        "required": ["slug", "title", "url", "snippet", "category", "lang", "score"],
        "properties": {
            "slug": {"type": "string"},
            "title": {"type": "string"},
            "url": {"type": "string"},
            "snippet": {"type": "string", "description": "Matched text, or the summary."},
            "category": {"type": "string"},
            "lang": _enum(("ru", "en")),
            "score": {"type": "number", "nullable": True},
        },
    },
    "ArticlePage": {
        "type": "object",
        "required": ["items", "page", "per_page", "total", "query", "suggestion"],
        "properties": {
            "items": {"type": "array", "items": _ref("ArticleHit")},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
            "query": {"type": "string"},
            "suggestion": {
                "type": "string",
                "nullable": True,
                "description": "Did you mean: the query with its typos corrected.",
            },
        },
    },
    "Article": {
        "type": "object",
        "required": [
            "slug",
            "title",
            "summary",
            "lang",
            "category",
            "tags",
            "updated",
            "translation_of",
            "url",
            "markdown",
            "html",
        ],
        "properties": {
            "slug": {"type": "string"},
            "title": {"type": "string"},
            "summary": {"type": "string"},
            "lang": _enum(("ru", "en")),
            "category": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "updated": {"type": "string", "format": "date"},
            "translation_of": {"type": "string", "nullable": True},
            "url": {"type": "string"},
            "markdown": {"type": "string", "description": "The article's Markdown source."},
            "html": {"type": "string", "description": "Rendered and sanitised HTML."},
        },
    },
}

ERROR = _ref("Error")
RESPONSES = {
    "InvalidParameter": _json(ERROR, "Invalid parameters (`fields` names them) or JSON."),
    "Unauthorized": {
        **_json(ERROR, "No token, or an unknown or revoked one."),
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    },
    "Forbidden": _json(ERROR, "The caller's role may not do this."),
    "NotFound": _json(ERROR, "No such thing, or the caller may not see it."),
    "TooLarge": _json(ERROR, "The body is larger than 1 MB."),
    "UnsupportedMediaType": _json(ERROR, "The body is not `application/json`."),
    "RateLimited": {
        **_json(ERROR, "Too many requests; wait `Retry-After` seconds."),
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    },
    "Unprocessable": _json(
        ERROR,
        "Understood but refused: `out_of_scope` (the reason is the message; with `rule` and "
        "`links`), `coupon_rejected` (with `reason`), or `ticket_closed`.",
    ),
    "Unavailable": _json(ERROR, "The knowledge-base index is not built yet."),
}


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
        "content": {"application/json": {"schema": _ref(name)}},
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
    ticket_result = _json(_ref("TicketWithMessages"), "The ticket with its thread.")
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
                        _param("status", _enum(STATUSES), "Only this status."),
                        _param("category", _enum(categories), "Only this problem type."),
                        _param("criticality", _enum(CRITICALITIES), "Only this criticality."),
                        _param("service_level", _enum(SERVICE_LEVELS), "Only this level."),
                        _param(
                            "q",
                            {"type": "string", "maxLength": 200},
                            "Text in the title, or part of the number.",
                        ),
                        *_page_params(20, 10_000),
                    ],
                    "responses": _responses(
                        "200", _json(_ref("TicketPage"), "A page of tickets."), "400"
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
                            **_json(_ref("TicketWithMessages"), "Filed."),
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
                        _json(_ref("Message"), "Added."),
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
                        _param("lang", _enum(("ru", "en")), "Only this language."),
                        _param(
                            "category",
                            {"type": "string", "maxLength": 100},
                            "Only this knowledge-base topic.",
                        ),
                        *_page_params(10, 1000),
                    ],
                    "responses": _responses(
                        "200", _json(_ref("ArticlePage"), "A page of articles."), "400", "503"
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
                        "200", _json(_ref("Article"), "The article."), "404", "503"
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
                        "200": _json({"type": "object"}, "The OpenAPI 3.0 document."),
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
