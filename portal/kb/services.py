"""Knowledge-base services the views call: the index, rendering, votes, listings."""

import hashlib
import re
import threading
import time
from pathlib import Path, PurePosixPath

import yaml
from flask import current_app, url_for
from flask_babel import get_locale
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from portal.extensions import db
from portal.kb.analysis import CYRILLIC
from portal.kb.articles import link_target, load_categories
from portal.kb.index import WhooshSearchIndex
from portal.kb.learning import learned_phrases, learned_version
from portal.kb.lru import Lru
from portal.kb.markup import Rendered, render
from portal.kb.models import ArticleVote
from portal.kb.results import SearchIndex, StoredArticle
from portal.kb.synonyms import load_synonyms
from portal.kb.vectors import word_vectors

IMAGE_TYPES = {".png", ".jpg", ".jpeg", ".gif", ".webp"}
MAX_COMMENT = 1000
_RENDER_CACHE_SIZE = 512
OVERVIEW_RECENT = 12


class KnowledgeBase:
    """A process's knowledge base: the search index it serves from and what its pages keep
    between requests (rendered articles, the topics, the home page's overview)."""

    def __init__(self, articles_dir: Path, index_dir: Path, vectors: bool = True):
        self.articles_dir = articles_dir
        self.index = WhooshSearchIndex(
            index_dir, load_synonyms(articles_dir / "_synonyms.yml"), vectors
        )
        self.learned_checked = float("-inf")
        self.rendered: Lru = Lru(_RENDER_CACHE_SIZE)
        self.overview: dict = {}
        self._categories: tuple = (None, {})
        self._redirects: tuple = (None, {})
        # The most viewed articles' slugs (analytics sets it: it counts the views).
        self.popular_slugs = lambda limit: []

    def categories(self) -> dict[str, dict]:
        """Category titles and order, reread when the articles folder changes."""
        meta = self.articles_dir / "_categories.yml"
        stamp = (
            self.articles_dir.stat().st_mtime_ns,
            meta.stat().st_mtime_ns if meta.exists() else 0,
        )
        if self._categories[0] != stamp:
            self._categories = (stamp, load_categories(self.articles_dir))
        return self._categories[1]

    def redirects(self) -> dict[str, str]:
        """Old slug -> current slug, reread when `_redirects.yml` changes."""
        path = self.articles_dir / REDIRECTS_FILE
        stamp = path.stat().st_mtime_ns if path.exists() else 0
        if self._redirects[0] != stamp:
            self._redirects = (stamp, load_redirects(self.articles_dir))
        return self._redirects[1]

    def relearn(self) -> None:
        """Look for newly learned phrases on the next question."""
        self.learned_checked = float("-inf")


def knowledge_base() -> KnowledgeBase:
    return current_app.extensions["kb"]


LEARNED_CHECK_SECONDS = 5.0
_LATIN_WORD = re.compile(r"\b[a-z]{2,}\b", re.IGNORECASE)


def reader_language(text: str) -> str:
    """The language a reader writes in: Russian if the text has Cyrillic, English if it
    is a few Latin words ("CRM" alone may be either), else the interface language."""
    if CYRILLIC.search(text):
        return "ru"
    if len(_LATIN_WORD.findall(text)) >= 2:
        return "en"
    return str(get_locale())


def warm_up_on_first_request(app) -> None:
    """Load the word vectors in the background when a process serves its first request,
    so that a reader's first question does not wait the two seconds they take."""
    if not app.config["PORTAL_SEARCH_VECTORS"]:
        return
    started = threading.Event()

    @app.before_request
    def _warm_up():
        if not started.is_set():
            started.set()
            threading.Thread(target=word_vectors, name="warm-up", daemon=True).start()


def search_index() -> SearchIndex:
    """The current application's search index, taught what readers taught (checked every
    few seconds: one small query)."""
    kb = knowledge_base()
    index = kb.index
    now = time.monotonic()
    if now - kb.learned_checked >= LEARNED_CHECK_SECONDS:
        kb.learned_checked = now
        try:
            version = learned_version(db.session)
            if version != index.learned_version:
                index.teach(version, learned_phrases(db.session))
        except SQLAlchemyError:  # a database not migrated yet: search works without it
            db.session.rollback()
    return index


def answer_tag(*parts: str) -> str:
    """An entity tag for an answer computed from the index: it changes when the index, the
    learned phrases, the interface language or the question (`parts`) do."""
    index = search_index()
    key = repr((index.version(), index.learned_version, str(get_locale()), parts))
    return hashlib.blake2b(key.encode(), digest_size=12).hexdigest()


REDIRECTS_FILE = "_redirects.yml"


def load_redirects(root: Path) -> dict[str, str]:
    """Old slug -> current slug, from `_redirects.yml` beside the articles."""
    try:
        data = yaml.safe_load((root / REDIRECTS_FILE).read_text("utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items() if k and v}


def redirect_for(slug: str) -> str | None:
    """The slug an article renamed from `slug` has now, if it moved."""
    return knowledge_base().redirects().get(slug)


def categories() -> dict[str, dict]:
    """Category titles and order, from the articles folder (reread when it changes)."""
    return knowledge_base().categories()


def _resolve_link(href: str, source_path: str) -> str | None:
    target = link_target(href, source_path)
    if target is None:
        path = PurePosixPath(source_path).parent / href.split("#")[0]
        if path.suffix.lower() in IMAGE_TYPES:
            return url_for("kb.media", path=path.as_posix())
        return None
    kind, value = target
    slug = value if kind == "slug" else search_index().slug_for_path(value)
    if slug and search_index().article(slug):
        return url_for("kb.article", slug=slug)
    return None


def rendered(article: StoredArticle) -> Rendered:
    """The article body as safe HTML, cached per content and index version."""
    cache = knowledge_base().rendered
    key = (article.slug, article.content_hash, search_index().version())
    found = cache.get(key)
    if found is None:
        found = render(article.source, article.path, _resolve_link)
        cache.put(key, found)
    return found


def media_file(path: str) -> Path | None:
    """An image that sits beside the articles, if `path` names one inside the folder."""
    root = current_app.config["PORTAL_ARTICLES_DIR"].resolve()
    candidate = (root / path).resolve()
    if root not in candidate.parents or candidate.suffix.lower() not in IMAGE_TYPES:
        return None
    return candidate if candidate.is_file() else None


def _overview(lang: str) -> dict:
    """Articles per category and the most recently updated ones of a language.

    Reading every article's stored fields is the one costly step of the home page, so the
    result is kept until the index changes.
    """
    index = search_index()
    cache = knowledge_base().overview
    key = (index.version(), lang)
    if key not in cache:
        cache.clear()
        articles = index.articles(lang=lang)
        counts: dict[str, int] = {}
        for article in articles:
            counts[article.category] = counts.get(article.category, 0) + 1
        recent = sorted(articles, key=lambda a: a.updated, reverse=True)[:OVERVIEW_RECENT]
        cache[key] = {"counts": counts, "recent": recent}
    return cache[key]


def category_counts(lang: str) -> dict[str, int]:
    """How many articles each category has in a language."""
    return _overview(lang)["counts"]


def popular_articles(lang: str, limit: int = 6) -> list[StoredArticle]:
    """Most viewed articles in a language; recently updated ones fill the gaps.

    The view counts are analytics' (`KnowledgeBase.popular_slugs`, set when it subscribes
    to the knowledge base's events); without them, the recent articles alone.
    """
    index = search_index()
    popular = knowledge_base().popular_slugs
    found = [a for s in popular(limit=limit * 3) if (a := index.article(s)) and a.lang == lang]
    if len(found) < limit:
        seen = {a.slug for a in found}
        found += [a for a in _overview(lang)["recent"] if a.slug not in seen]
    return found[:limit]


def cast_vote(slug: str, visitor: str, helpful: bool, comment: str | None = None) -> ArticleVote:
    """Record or change a visitor's vote on an article."""
    comment = (comment or "").strip()[:MAX_COMMENT] or None
    vote = db.session.scalar(select(ArticleVote).filter_by(article_slug=slug, visitor=visitor))
    if vote is None:
        vote = ArticleVote(article_slug=slug, visitor=visitor, helpful=helpful, comment=comment)
        db.session.add(vote)
        try:
            db.session.commit()
            return vote
        except IntegrityError:  # the same visitor voted twice at once
            db.session.rollback()
            vote = db.session.scalar(
                select(ArticleVote).filter_by(article_slug=slug, visitor=visitor)
            )
    vote.helpful = helpful
    if helpful:
        vote.comment = None
    elif comment is not None:
        vote.comment = comment
    db.session.commit()
    return vote


def visitor_vote(slug: str, visitor: str | None) -> ArticleVote | None:
    """The vote this visitor gave, if any."""
    if not visitor:
        return None
    return db.session.scalar(select(ArticleVote).filter_by(article_slug=slug, visitor=visitor))


def vote_counts(slug: str) -> tuple[int, int]:
    """(helpful, not helpful) votes of an article."""
    rows = db.session.execute(
        select(ArticleVote.helpful, func.count())
        .where(ArticleVote.article_slug == slug)
        .group_by(ArticleVote.helpful)
    )
    counts = dict(rows.all())
    return counts.get(True, 0), counts.get(False, 0)
