"""JSON Schemas of the API's bodies, answers and errors: the `components` of the OpenAPI
document (`openapi.py`)."""

from portal.api_v1.services import TICKET_NUMBER
from portal.sla import SERVICE_LEVELS, TIERS
from portal.tickets.conversation import STAFF_STATUSES
from portal.tickets.models import CHANNELS, CRITICALITIES, STATUSES

NUMBER_PATTERN = f"^{TICKET_NUMBER.pattern}$"


def ref(name: str) -> dict:
    """A reference to a schema of the components."""
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict, description: str) -> dict:
    """A response (or body) of JSON in `schema`."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def enum(values, **extra) -> dict:
    """A string that is one of `values`."""
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
    "criticality": enum(CRITICALITIES),
    "service_level": enum(SERVICE_LEVELS),
    "tier": enum(TIERS),
    "channel": enum(CHANNELS),
    "status": enum(STATUSES),
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
                    "links": {"type": "array", "items": ref("Link")},
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
                "items": ref("Message"),
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
            "items": {"type": "array", "items": ref("Ticket")},
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
            "criticality": enum(CRITICALITIES, default="normal"),
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
                **enum((*STAFF_STATUSES, "closed")),
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
            "lang": enum(("ru", "en")),
            "score": {"type": "number", "nullable": True},
        },
    },
    "ArticlePage": {
        "type": "object",
        "required": ["items", "page", "per_page", "total", "query", "suggestion"],
        "properties": {
            "items": {"type": "array", "items": ref("ArticleHit")},
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
            "lang": enum(("ru", "en")),
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

ERROR = ref("Error")
RESPONSES = {
    "InvalidParameter": json_content(ERROR, "Invalid parameters (`fields` names them) or JSON."),
    "Unauthorized": {
        **json_content(ERROR, "No token, or an unknown or revoked one."),
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    },
    "Forbidden": json_content(ERROR, "The caller's role may not do this."),
    "NotFound": json_content(ERROR, "No such thing, or the caller may not see it."),
    "TooLarge": json_content(ERROR, "The body is larger than 1 MB."),
    "UnsupportedMediaType": json_content(ERROR, "The body is not `application/json`."),
    "RateLimited": {
        **json_content(ERROR, "Too many requests; wait `Retry-After` seconds."),
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    },
    "Unprocessable": json_content(
        ERROR,
        "Understood but refused: `out_of_scope` (the reason is the message; with `rule` and "
        "`links`), `coupon_rejected` (with `reason`), or `ticket_closed`.",
    ),
    "Unavailable": json_content(ERROR, "The knowledge-base index is not built yet."),
}
