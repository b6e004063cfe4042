"""What a search engine gives the pages: stored articles, hits, pages of results, and the
`SearchIndex` interface the views rely on (`portal.kb.index` implements it on Whoosh)."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol

from portal.kb.snippets import Snippet


@dataclass
class StoredArticle:
    """An article as the index holds it."""

    slug: str
    title: str
    lang: str
    category: str
    summary: str
    tags: list[str]
    path: str
    source: str
    content_hash: str
    updated: dt.date
    translation_of: str | None = None

    @classmethod
    def from_fields(cls, f: dict) -> "StoredArticle":
        return cls(
            slug=f["slug"],
            title=f["title"],
            lang=f["lang"],
            category=f["category"],
            summary=f.get("summary", ""),
            tags=list(f.get("tag_list") or []),
            path=f.get("path", ""),
            source=f.get("source", ""),
            content_hash=f.get("content_hash", ""),
            updated=dt.date.fromisoformat(f["updated"]) if f.get("updated") else dt.date.today(),
            translation_of=f.get("translation_of") or None,
        )


@dataclass
class Hit:
    """One search result."""

    slug: str
    title: str
    category: str
    lang: str
    score: float
    snippet: Snippet
    summary: str = ""


@dataclass
class SearchResults:
    """A page of results with the total and a spelling suggestion."""

    query: str
    hits: list[Hit]
    total: int
    page: int = 1
    per_page: int = 10
    suggestion: str | None = None
    corrected: bool = False
    terms: frozenset[str] = field(default_factory=frozenset)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


class SearchIndex(Protocol):
    """What the views need from a search engine."""

    def search(
        self,
        query: str,
        *,
        lang: str | None = None,
        category: str | None = None,
        page: int = 1,
        per_page: int = 10,
        prefer_lang: str | None = None,
    ) -> SearchResults: ...

    def suggest(
        self,
        query: str,
        *,
        lang: str | None = None,
        limit: int = 5,
        prefer_lang: str | None = None,
        exclude: frozenset[str] = frozenset(),
    ) -> SearchResults: ...

    def article(self, slug: str) -> StoredArticle | None: ...

    def articles(
        self, *, lang: str | None = None, category: str | None = None
    ) -> list[StoredArticle]: ...

    def related(self, article: StoredArticle, limit: int = 5) -> list[StoredArticle]: ...

    def slug_for_path(self, path: str) -> str | None: ...


class IndexMissing(RuntimeError):
    """No index has been built yet."""
