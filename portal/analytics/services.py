"""Recording events and the figures the pages show from them."""

import datetime as dt

from flask import current_app
from sqlalchemy import func, select

from portal.analytics.models import Event
from portal.analytics.queue import event_queue
from portal.clock import utcnow
from portal.extensions import db
from portal.kb import events
from portal.kb.analysis import clean, fold

SEARCH = "search"
ARTICLE_VIEW = "article_view"
MAX_QUERY_LENGTH = 200


def normalise_query(text: str) -> str:
    """The form a query is stored in: folded, single-spaced, bounded."""
    return fold(clean(text))[:MAX_QUERY_LENGTH]


def record_search(query: str, lang: str | None, results: int) -> None:
    """Count a search (without who made it) for the editors' gap report."""
    _queue(kind=SEARCH, query=normalise_query(query), lang=lang, results=results)


def record_view(slug: str, lang: str, from_query: str | None = None) -> None:
    """Count one view of an article, and which search led to it."""
    _queue(kind=ARTICLE_VIEW, article_slug=slug, lang=lang)
    if from_query:
        _queue(kind="search_open", article_slug=slug, query=normalise_query(from_query))


def _queue(**row) -> None:
    event_queue(current_app._get_current_object()).put(created_at=utcnow(), **row)


def popular_slugs(days: int = 30, limit: int = 6, now: dt.datetime | None = None) -> list[str]:
    """Most viewed articles over the last `days`."""
    since = (now or utcnow()) - dt.timedelta(days=days)
    rows = db.session.execute(
        select(Event.article_slug, func.count().label("views"))
        .where(Event.kind == ARTICLE_VIEW, Event.created_at >= since)
        .group_by(Event.article_slug)
        .order_by(func.count().desc(), Event.article_slug)
        .limit(limit)
    )
    return [slug for slug, _ in rows]


FUNNEL = (
    "draft_started",
    "suggestions_shown",
    "article_opened",
    "not_it",
    "deflected",
    "submitted",
    "abandoned",
)


def record_funnel(kind: str, draft_id: int | None, slug: str | None = None, data=None) -> None:
    """A step of the request funnel, in the caller's transaction."""
    if kind not in FUNNEL:
        raise ValueError(f"unknown funnel event {kind!r}")
    db.session.add(Event(kind=kind, draft_id=draft_id, article_slug=slug, data=data))


def rejected_articles(draft_id: int) -> frozenset[str]:
    """Articles the author of a draft marked "Not it"."""
    rows = db.session.scalars(
        select(Event.article_slug).where(
            Event.kind == "not_it", Event.draft_id == draft_id, Event.article_slug.is_not(None)
        )
    )
    return frozenset(rows)


def _searched(_sender, query: str, lang: str | None, results: int, **_) -> None:
    record_search(query, lang, results)


def _viewed(_sender, slug: str, lang: str, from_query: str | None = None, **_) -> None:
    record_view(slug, lang, from_query)


def subscribe(app) -> None:
    """Record the knowledge base's searches and views, and give it the most viewed articles."""
    events.searched.connect(_searched)
    events.viewed.connect(_viewed)
    app.extensions["popular_slugs"] = popular_slugs
