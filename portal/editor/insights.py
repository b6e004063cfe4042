"""What editors read on /editor/insights: searches, gaps, articles, deflection."""

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.analytics.models import Event
from portal.extensions import db
from portal.kb.models import ArticleVote
from portal.tickets.models import Ticket, TicketRating
from portal.wizard.models import Draft


@dataclass
class Period:
    start: dt.datetime
    end: dt.datetime


def _events(period: Period, *kinds: str) -> list[Event]:
    return list(
        db.session.scalars(
            select(Event).where(
                Event.kind.in_(kinds),
                Event.created_at >= period.start,
                Event.created_at < period.end,
            )
        )
    )


def top_queries(period: Period, limit: int = 50) -> list[dict]:
    """Most frequent searches with how many results they got and how often one was opened."""
    searches = _events(period, "search")
    opened = Counter(e.query for e in _events(period, "search_open"))
    counts = Counter(e.query for e in searches)
    results = {e.query: e.results for e in searches}
    return [
        {"query": q, "searches": n, "results": results[q], "opened": opened.get(q, 0)}
        for q, n in counts.most_common(limit)
    ]


def gaps(period: Period, limit: int = 50) -> list[dict]:
    """Queries with no result, and the tickets filed after them on the same words."""
    searches = [e for e in _events(period, "search") if not e.results]
    first_seen: dict[str, dt.datetime] = {}
    for event in searches:
        first_seen.setdefault(event.query, event.created_at)
    counts = Counter(e.query for e in searches)
    rows = []
    for query, n in counts.most_common(limit):
        words = [w for w in query.split() if len(w) > 3][:4]
        tickets = []
        if words:
            conditions = [func.lower(Ticket.title).like(f"%{w[:-1]}%") for w in words]
            tickets = db.session.scalars(
                select(Ticket.number)
                .where(Ticket.created_at >= first_seen[query], *conditions)
                .order_by(Ticket.created_at)
                .limit(5)
            ).all()
        rows.append({"query": query, "searches": n, "tickets": list(tickets)})
    return rows


def unopened(period: Period, limit: int = 50) -> list[dict]:
    """Queries that found articles nobody opened."""
    return [row for row in top_queries(period, limit * 3) if row["results"] and not row["opened"]][
        :limit
    ]


def articles(period: Period, titles: dict[str, str]) -> list[dict]:
    """Per article: views, helpful yes/no, suggested, opened from a suggestion, deflections."""
    stats: dict[str, Counter] = defaultdict(Counter)
    for event in _events(
        period, "article_view", "article_opened", "deflected", "suggestions_shown", "search_open"
    ):
        if event.kind == "suggestions_shown":
            for slug in (event.data or {}).get("slugs", []):
                stats[slug]["suggested"] += 1
        elif event.article_slug:
            stats[event.article_slug][event.kind] += 1
    votes = db.session.execute(
        select(ArticleVote.article_slug, ArticleVote.helpful, func.count())
        .where(ArticleVote.updated_at >= period.start, ArticleVote.updated_at < period.end)
        .group_by(ArticleVote.article_slug, ArticleVote.helpful)
    )
    for slug, helpful, n in votes:
        stats[slug]["helpful" if helpful else "not_helpful"] += n
    rows = [
        {
            "slug": slug,
            "title": titles.get(slug, slug),
            "views": c["article_view"],
            "helpful": c["helpful"],
            "not_helpful": c["not_helpful"],
            "suggested": c["suggested"],
            "opened": c["article_opened"],
            "deflected": c["deflected"],
        }
        for slug, c in stats.items()
    ]
    return sorted(rows, key=lambda r: (-r["deflected"], -r["views"], r["slug"]))


def _rate(deflected: int, submitted: int) -> float | None:
    return deflected / (deflected + submitted) if deflected + submitted else None


def deflection(period: Period) -> dict:
    """Deflected drafts / (deflected + submitted): overall, per category, per ISO week."""
    ended = _events(period, "deflected", "submitted")
    draft_ids = {e.draft_id for e in ended if e.draft_id}
    categories = (
        dict(
            db.session.execute(
                select(Draft.id, Draft.category).where(Draft.id.in_(draft_ids))
            ).all()
        )
        if draft_ids
        else {}
    )
    overall, by_category, by_week = Counter(), defaultdict(Counter), defaultdict(Counter)
    for event in ended:
        overall[event.kind] += 1
        by_category[categories.get(event.draft_id) or "—"][event.kind] += 1
        year, week, _ = event.created_at.isocalendar()
        by_week[f"{year}-W{week:02d}"][event.kind] += 1

    def row(counter):
        return {
            "deflected": counter["deflected"],
            "submitted": counter["submitted"],
            "rate": _rate(counter["deflected"], counter["submitted"]),
        }

    return {
        "overall": row(overall),
        "by_category": {k: row(v) for k, v in sorted(by_category.items())},
        "by_week": {k: row(v) for k, v in sorted(by_week.items())},
    }


def tickets_per_category(period: Period) -> list[dict]:
    rows = db.session.execute(
        select(Ticket.category, func.count())
        .where(Ticket.created_at >= period.start, Ticket.created_at < period.end)
        .group_by(Ticket.category)
        .order_by(func.count().desc())
    )
    return [{"category": c, "tickets": n} for c, n in rows]


def ratings(period: Period) -> list[dict]:
    """Customers' ratings per specialist: how many and the average."""
    rows = db.session.execute(
        select(User.name, func.count(TicketRating.id), func.avg(TicketRating.score))
        .join(User, User.id == TicketRating.agent_id)
        .where(TicketRating.created_at >= period.start, TicketRating.created_at < period.end)
        .group_by(User.name)
        .order_by(func.avg(TicketRating.score).desc())
    )
    return [
        {"specialist": name, "ratings": n, "average": round(float(avg), 2)} for name, n, avg in rows
    ]
