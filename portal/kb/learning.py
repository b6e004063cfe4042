"""Phrases the portal learns from its own outcomes: what readers typed before an article
solved their problem. Nothing here knows who they were.

A phrase is stored cleaned and only if it carries no personal data; each session counts
once per phrase and article through a keyed hash (HMAC-SHA256 with the secret key) kept in
a table of its own, so no session id is ever stored in clear. A phrase becomes active once
enough distinct sessions gave it; an editor can remove it for good.
"""

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.clock import utcnow
from portal.kb.analysis import clean, fold, language_of
from portal.kb.models import ACTIVE, CANDIDATE, REMOVED, LearnedPhrase, LearnedSighting

MAX_PHRASE = 200
MIN_PHRASE = 3
SHORT_SENTENCE_WORDS = 12
SHORT_SENTENCE_CHARS = 120
SIGHTINGS_KEPT = dt.timedelta(days=90)

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)\S*", re.IGNORECASE)
DOMAIN = re.compile(
    r"(?<![\w@])[\w-]+(?:\.[\w-]+)*\.(?:ru|com|net|org|su|io|info|biz|рф|by|kz|ua|me|pro|"
    r"online|site|app|dev|store|shop|club|tech)(?![\w.])",
    re.IGNORECASE,
)
NUMBER_RUN = re.compile(r"(?<!\w)\+?\d[\d\s().-]{5,}\d(?!\w)")
PHONE_DIGITS = 7  # a number this long is a phone, an account or an address, not a topic
TICKET_NUMBER = re.compile(r"#\s?\d{2,}|(?<!\d)\d{4}-\d{6}(?!\d)")
_EDGES = " \t.,;:!?…-–—\"'«»“”„()[]{}<>*/\\|"
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
_LETTER = re.compile(r"[^\W\d_]")
GREETINGS = frozenset(
    {
        "здравствуйте",
        "добрый день",
        "добрый вечер",
        "доброе утро",
        "привет",
        "приветствую",
        "уважаемая техподдержка",
        "уважаемая поддержка",
        "hello",
        "hi",
        "good morning",
        "good afternoon",
        "good evening",
        "dear support",
        "hello support",
    }
)


@dataclass(frozen=True)
class Rules:
    """How much agreement makes a phrase active, and how many one article may have."""

    min_sessions: int = 3
    max_per_article: int = 20


def has_personal_data(text: str) -> bool:
    """Whether text holds an e-mail address, a URL, a phone-like number or a ticket number."""
    if EMAIL.search(text) or URL.search(text) or DOMAIN.search(text):
        return True
    if TICKET_NUMBER.search(text):
        return True
    return any(
        sum(c.isdigit() for c in m.group()) >= PHONE_DIGITS for m in NUMBER_RUN.finditer(text)
    )


def normalise_phrase(text: str | None) -> str | None:
    """The stored form of a phrase, or None if it is empty, has no letters or personal data."""
    text = clean(text or "")
    if not text or has_personal_data(text):
        return None
    phrase = fold(text).strip(_EDGES)
    if len(phrase) > MAX_PHRASE:
        phrase = phrase[: MAX_PHRASE + 1].rsplit(" ", 1)[0].strip(_EDGES)[:MAX_PHRASE]
    if len(phrase) < MIN_PHRASE or not _LETTER.search(phrase):
        return None
    return phrase


def first_sentence(description: str) -> str | None:
    """The description's first sentence that is not a greeting, if it is short."""
    for sentence in _SENTENCE_END.split(description or ""):
        sentence = " ".join(sentence.split()).strip(_EDGES)
        if not sentence or fold(sentence) in GREETINGS:
            continue
        short = len(sentence) <= SHORT_SENTENCE_CHARS
        if short and len(sentence.split()) <= SHORT_SENTENCE_WORDS:
            return sentence
        return None
    return None


def deflection_phrases(title: str, description: str) -> list[str]:
    """What a draft ended by "This solved my problem" teaches: title, first short sentence."""
    return [text for text in (title, first_sentence(description)) if text]


def sighting_digest(secret: str, slug: str, phrase: str, source: str) -> str:
    """The keyed hash that stands for "this session gave this phrase for this article"."""
    message = "\x1f".join((slug, phrase, source)).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _first_time(session: Session, digest: str, now: dt.datetime) -> bool:
    try:
        with session.begin_nested():
            session.add(LearnedSighting(digest=digest, seen_at=now))
        return True
    except IntegrityError:  # this session already gave this phrase for this article
        return False


def _phrase_row(session: Session, slug: str, phrase: str, lang: str) -> LearnedPhrase:
    query = select(LearnedPhrase).filter_by(article_slug=slug, phrase=phrase)
    row = session.scalar(query)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = LearnedPhrase(article_slug=slug, phrase=phrase, lang=lang, sessions=0)
            session.add(row)
        return row
    except IntegrityError:  # another worker created it a moment ago
        return session.scalar(query)


def record_evidence(
    session: Session,
    secret: str,
    slug: str,
    article_lang: str,
    texts: list[str],
    source: str,
    rules: Rules,
    now: dt.datetime | None = None,
) -> list[str]:
    """Count `texts` as leading to article `slug` once per `source`; the caller commits."""
    now = now or utcnow()
    purge_sightings(session, now)
    counted = []
    for phrase in dict.fromkeys(p for p in map(normalise_phrase, texts) if p):
        status = session.scalar(
            select(LearnedPhrase.status).filter_by(article_slug=slug, phrase=phrase)
        )
        if status == REMOVED:
            continue
        if not _first_time(session, sighting_digest(secret, slug, phrase, source), now):
            continue
        row = _phrase_row(session, slug, phrase, language_of(phrase, article_lang))
        session.execute(
            update(LearnedPhrase)
            .where(LearnedPhrase.id == row.id)
            .values(sessions=LearnedPhrase.sessions + 1, last_seen=now)
            .execution_options(synchronize_session=False)
        )
        session.refresh(row)
        counted.append(phrase)
    if counted:
        restatus(session, slug, rules, now)
    return counted


def restatus(session: Session, slug: str, rules: Rules, now: dt.datetime | None = None) -> None:
    """Make the article's best supported phrases active, up to the limit; the rest wait."""
    now = now or utcnow()
    rows = session.scalars(
        select(LearnedPhrase)
        .where(LearnedPhrase.article_slug == slug, LearnedPhrase.status != REMOVED)
        .order_by(LearnedPhrase.sessions.desc(), LearnedPhrase.first_seen, LearnedPhrase.id)
    ).all()
    active = 0
    for row in rows:
        wanted = CANDIDATE
        if row.sessions >= rules.min_sessions and active < rules.max_per_article:
            wanted, active = ACTIVE, active + 1
        if row.status != wanted:
            row.status, row.changed_at = wanted, now
    session.flush()


def purge_sightings(session: Session, now: dt.datetime | None = None) -> int:
    """Forget the session hashes older than 90 days; returns how many went."""
    since = (now or utcnow()) - SIGHTINGS_KEPT
    result = session.execute(delete(LearnedSighting).where(LearnedSighting.seen_at < since))
    return result.rowcount or 0


def article_phrases(session: Session, slug: str) -> list[LearnedPhrase]:
    """An article's active and candidate phrases, the active and best supported first."""
    return list(
        session.scalars(
            select(LearnedPhrase)
            .where(LearnedPhrase.article_slug == slug, LearnedPhrase.status != REMOVED)
            .order_by(
                (LearnedPhrase.status == ACTIVE).desc(),
                LearnedPhrase.sessions.desc(),
                LearnedPhrase.phrase,
            )
        )
    )


def remove_phrase(
    session: Session, slug: str, phrase_id: int, rules: Rules, now: dt.datetime | None = None
) -> bool:
    """An editor's verdict: the phrase is removed and no new evidence brings it back."""
    now = now or utcnow()
    row = session.scalar(select(LearnedPhrase).filter_by(id=phrase_id, article_slug=slug))
    if row is None or row.status == REMOVED:
        return False
    row.status, row.changed_at = REMOVED, now
    restatus(session, slug, rules, now)
    return True


def learned_phrases(session: Session) -> list[tuple[str, str, str]]:
    """(slug, lang, phrase) of every active phrase, for the search index."""
    rows = session.execute(
        select(LearnedPhrase.article_slug, LearnedPhrase.lang, LearnedPhrase.phrase)
        .where(LearnedPhrase.status == ACTIVE)
        .order_by(LearnedPhrase.article_slug, LearnedPhrase.phrase)
    )
    return [tuple(row) for row in rows]


def learned_version(session: Session) -> str:
    """A stamp that changes whenever the set of active phrases does; one small query."""
    # A phrase leaves the active set only by removal or by a demotion that comes with another
    # phrase's promotion, so the latest change among non-candidates sees every change.
    count, changed = session.execute(
        select(
            func.count().filter(LearnedPhrase.status == ACTIVE),
            func.max(LearnedPhrase.changed_at).filter(LearnedPhrase.status != CANDIDATE),
        )
    ).one()
    return f"{count}:{changed.isoformat() if changed else '-'}"


def move_phrases(session: Session, old_slug: str, new_slug: str) -> None:
    """An article's learned phrases follow it to its new slug; the caller commits."""
    # Rows left under the new slug belong to a deleted article of that name.
    session.execute(delete(LearnedPhrase).where(LearnedPhrase.article_slug == new_slug))
    session.execute(
        update(LearnedPhrase)
        .where(LearnedPhrase.article_slug == old_slug)
        .values(article_slug=new_slug)
        .execution_options(synchronize_session=False)
    )
