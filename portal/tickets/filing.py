"""The filing policy, the same for every channel: coupon, scope, service level, deadline.

A channel (the web wizard, the REST API, e-mail, a specialist logging a phone call) parses
its own input into a `Request` and presents the outcome; `decide` says what filing it would
give now and `file_request` files it. Nothing else decides a new request's level.
"""

import datetime as dt
import threading
from dataclasses import dataclass, field

from flask import current_app

from portal.accounts.models import User
from portal.calendar.services import sla_policy
from portal.clock import utcnow
from portal.coupons.services import CouponError, check
from portal.kb.vectors import word_vectors
from portal.scope import ScopeResult, classify, learned_of, load_rules
from portal.sla import response_due
from portal.tickets.models import Ticket
from portal.tickets.services import NewTicket, file_ticket

MAX_SCOPE_NOTE = 1000
_scope_prepared = threading.Event()


@dataclass
class Request:
    """A new request as a channel parsed it, before any decision."""

    author: User
    title: str
    description: str
    category: str
    channel: str
    criticality: str = "normal"
    details: dict = field(default_factory=dict)
    coupon_code: str | None = None
    lang: str | None = None  # None: the language the text is written in
    logged_by: User | None = None
    attachments: list = field(default_factory=list)
    linked_ticket_id: int | None = None

    @property
    def text(self) -> str:
        """What the scope check reads: the title and the description."""
        return f"{self.title}\n{self.description}"


@dataclass(frozen=True)
class Decision:
    """What filing the request now gives: the scope verdict, the level and the deadline."""

    scope: ScopeResult
    service_level: str
    due: dt.datetime
    tier: str
    coupon_error: str | None = None

    @property
    def out_of_scope(self) -> bool:
        return self.scope.verdict == "out_of_scope"


class OutOfScope(Exception):
    """Work support does not do, and no one said why to file it anyway; `decision` has the
    reason and the links to show."""

    def __init__(self, decision: Decision):
        super().__init__(decision.scope.rule)
        self.decision = decision

    @property
    def scope(self) -> ScopeResult:
        return self.decision.scope


def _scope_models():
    """The configured scope rules and the word vectors they use (where search uses them)."""
    rules = load_rules(current_app.config["PORTAL_SCOPE_RULES_FILE"])
    return rules, word_vectors(current_app.config["PORTAL_SEARCH_VECTORS"])


def prepare_scope_check() -> None:
    """Learn the scope classifier in the background, once per process, so that a draft's
    preview does not wait the seconds it takes (the wizard calls this as a draft starts;
    processes that only serve the knowledge base never learn it)."""
    if _scope_prepared.is_set():
        return
    _scope_prepared.set()
    rules, vectors = _scope_models()
    threading.Thread(
        target=learned_of, args=(rules, vectors), name="scope-warm-up", daemon=True
    ).start()


def decide(request: Request, now: dt.datetime | None = None) -> Decision:
    """Check the coupon, classify the text and compute the level and deadline, filing nothing."""
    now = now or utcnow()
    author = request.author
    coupon_error = None
    special = False
    if request.coupon_code:
        try:
            check(request.coupon_code, author.organisation_id, now)
            special = True
        except CouponError as error:
            coupon_error = error.code
    rules, vectors = _scope_models()
    scope = classify(request.text, tier=author.tier, special=special, rules=rules, vectors=vectors)
    if special:
        level = "special"
    elif scope.verdict == "consultation":
        level = "consultation"
    else:
        level = "standard"
    due = response_due({"tier": author.tier, "service_level": level}, now, sla_policy())
    return Decision(scope, level, due, author.tier, coupon_error)


def file_request(
    request: Request, scope_note: str = "", now: dt.datetime | None = None
) -> tuple[Ticket, Decision]:
    """File the request as `decide` rules, in one transaction with its mail and events.

    Raises CouponError for a coupon that cannot be used and OutOfScope for work support
    does not do, unless `scope_note` says why it should be filed anyway (then the note is
    kept with the request and a specialist reviews its scope); TicketError for text that
    cannot be filed.
    """
    now = now or utcnow()
    decision = decide(request, now)
    if decision.coupon_error:
        raise CouponError(decision.coupon_error)
    note = scope_note.strip()[:MAX_SCOPE_NOTE]
    if decision.out_of_scope and not note:
        raise OutOfScope(decision)
    details = dict(request.details)
    if decision.out_of_scope:
        details["scope_note"] = note
    ticket = file_ticket(
        NewTicket(
            author=request.author,
            title=request.title,
            description=request.description,
            category=request.category,
            criticality=request.criticality,
            channel=request.channel,
            details=details,
            coupon_code=request.coupon_code or None,
            lang=request.lang or decision.scope.lang,
            service_level=decision.service_level,
            scope_review=decision.out_of_scope,
            logged_by=request.logged_by,
            attachments=request.attachments,
            linked_ticket_id=request.linked_ticket_id,
        ),
        now=now,
    )
    return ticket, decision
