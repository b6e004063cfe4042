"""Which requests teach the portal a phrase, on whose behalf (hashed, never stored), and
the editors' review of what was learned.

A search that led to an article is remembered in the visitor's own signed session cookie
for a short while, so a "helpful" vote on that article can count the query; the server
keeps the query only in the learned phrase, never beside who searched. Staff, and clients
that were rate-limited lately, teach nothing.
"""

import time

from flask import current_app, has_request_context, session

from portal.extensions import db
from portal.kb import learning
from portal.kb.models import LearnedPhrase
from portal.kb.services import search_index

SEARCH_TRAIL = "search_trail"
SEARCH_TRAIL_SECONDS = 30 * 60
SEARCH_TRAIL_ARTICLES = 5
THROTTLED_AT = "throttled_at"
THROTTLE_MEMORY_SECONDS = 60 * 60


def rules() -> learning.Rules:
    """The configured thresholds of learning."""
    config = current_app.config
    return learning.Rules(
        min_sessions=config["PORTAL_LEARN_MIN_SESSIONS"],
        max_per_article=config["PORTAL_LEARN_MAX_PER_ARTICLE"],
    )


def mark_throttled() -> None:
    """This client hit a rate limit: what it does for the next hour teaches nothing."""
    session[THROTTLED_AT] = int(time.time())


def _throttled() -> bool:
    marked = session.get(THROTTLED_AT)
    return isinstance(marked, int) and time.time() - marked < THROTTLE_MEMORY_SECONDS


def _source(user) -> str | None:
    """The account or browser session the evidence comes from; None when it must not count."""
    if not has_request_context() or _throttled():
        return None
    if user is not None and user.is_authenticated:
        # An account counts once however many browsers it signs in from.
        return None if (user.is_staff or user.is_editor) else f"user:{user.id}"
    visitor = session.get("visitor")
    return f"visitor:{visitor}" if isinstance(visitor, str) and visitor else None


def learn(slug: str, texts: list[str], user) -> list[str]:
    """Count `texts` as leading to the article; returns the phrases that were counted."""
    source = _source(user)
    article = search_index().article(slug) if source else None
    if article is None:
        return []
    counted = learning.record_evidence(
        db.session, current_app.secret_key, slug, article.lang, texts, source, rules()
    )
    db.session.commit()
    return counted


def _fresh_trail() -> dict:
    trail = session.get(SEARCH_TRAIL)
    if not isinstance(trail, dict):
        return {}
    now = time.time()
    return {
        slug: entry
        for slug, entry in trail.items()
        if isinstance(entry, list)
        and len(entry) == 2
        and isinstance(entry[0], str)
        and isinstance(entry[1], int)
        and now - entry[1] < SEARCH_TRAIL_SECONDS
    }


def remember_search(slug: str, query: str) -> None:
    """The visitor opened `slug` from the results of `query`."""
    query = " ".join(query.split())[: learning.MAX_PHRASE]
    if not query:
        return
    trail = _fresh_trail()
    trail.pop(slug, None)
    trail[slug] = [query, int(time.time())]
    latest = sorted(trail.items(), key=lambda item: item[1][1])[-SEARCH_TRAIL_ARTICLES:]
    session[SEARCH_TRAIL] = dict(latest)


def searched_for(slug: str) -> str:
    """The recent search that led the visitor to `slug`, or ""."""
    entry = _fresh_trail().get(slug)
    return entry[0] if entry else ""


def learn_from_vote(slug: str, user) -> list[str]:
    """A "helpful" vote: the search that led here, if recent, leads to this article."""
    trail = _fresh_trail()
    entry = trail.pop(slug, None)
    if SEARCH_TRAIL in session:
        session[SEARCH_TRAIL] = trail
    return learn(slug, [entry[0]], user) if entry else []


def phrases_for_review(slug: str) -> list[LearnedPhrase]:
    """What readers taught about an article, for its editor page."""
    return learning.article_phrases(db.session, slug)


def remove_learned(slug: str, phrase_id: int) -> bool:
    """An editor removes a learned phrase for good; False if there was no such phrase."""
    removed = learning.remove_phrase(db.session, slug, phrase_id, rules())
    db.session.commit()
    return removed
