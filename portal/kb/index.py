"""Searching on Whoosh: `WhooshSearchIndex` implements `portal.kb.results.SearchIndex` over
the index `portal.kb.indexing` builds, and picks up a new generation by itself."""

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index
from whoosh.query import And, Every, Term

from portal.kb import ranking_files
from portal.kb.analysis import (
    STOP_WORDS,
    WORD,
    clean,
    fold,
    stem,
    words,
)
from portal.kb.indexing import current_generation
from portal.kb.lru import Lru
from portal.kb.markup import plain_text
from portal.kb.question import Learned, Scores
from portal.kb.ranking import Ranker
from portal.kb.results import Hit, IndexMissing, SearchResults, StoredArticle
from portal.kb.snippets import Passage, make_snippet
from portal.kb.synonyms import SynonymTable
from portal.kb.vectors import WordVectors, word_vectors

MAX_QUERY_CHARS = 500
MAX_QUERY_TERMS = 32
# Questions are ranked by `portal.kb.ranking` over whole articles, which also holds the
# words for spelling and typed prefixes; Whoosh keeps the stored articles.
MIN_PREFIX = 3
MIN_MEANING_CHARS = 5
MAX_PREFIX_TERMS = 20
PREFIX_WEIGHT = 0.6
# Results in the reader's own language get this factor when no language is chosen.
PREFERENCE = 1.15


@dataclass
class _Unit:
    """One word of a query (or a synonym group) and the stems that may stand for it."""

    alternatives: tuple[tuple[str, ...], ...]
    prefix: str | None = None


class WhooshSearchIndex:
    """`SearchIndex` over the Whoosh index on disk, shared by the threads of a process."""

    REFRESH_SECONDS = 1.0
    CACHE_SIZE = 2048

    def __init__(self, index_dir: Path, synonyms: SynonymTable, vectors: bool = True):
        self.index_dir = Path(index_dir)
        self.synonyms = synonyms
        self.use_vectors = vectors
        self._local = threading.local()
        # Answers to typed questions and related articles, per index and learned version.
        self._cache = Lru(self.CACHE_SIZE)
        # Articles' plain text split into words, for the snippets of search results.
        self._passages = Lru(self.CACHE_SIZE)
        self._rankers: dict[tuple, Ranker] = {}
        self._ranker_lock = threading.Lock()
        self._learned: Learned | None = None
        self.learned_version: str | None = None

    @property
    def vectors(self) -> WordVectors:
        """The word vectors, loaded on the first question rather than at start-up."""
        return word_vectors(self.use_vectors)

    # -- opening and refreshing -------------------------------------------------

    def _searcher(self):
        state = self._local
        now = time.monotonic()
        if (
            getattr(state, "searcher", None) is not None
            and now - state.checked < self.REFRESH_SECONDS
        ):
            return state.searcher
        generation = current_generation(self.index_dir)
        if generation is None:
            raise IndexMissing(f"no search index in {self.index_dir}; run `portal index`")
        if getattr(state, "generation", None) != generation:
            if getattr(state, "searcher", None) is not None:
                state.searcher.close()
            state.searcher = whoosh_index.open_dir(str(generation)).searcher()
            state.generation = generation
            state.filters = {}
            state.ranker = None
        elif not state.searcher.up_to_date():
            # A fresh reader, not Searcher.refresh(): refresh reuses the readers of segments
            # it already had and so keeps showing documents deleted from them since.
            state.searcher.close()
            state.searcher = whoosh_index.open_dir(str(generation)).searcher()
            state.filters = {}
        state.ranker = self._ranker_for(generation) or state.ranker or Ranker.empty()
        state.checked = now
        return state.searcher

    def _ranker_for(self, generation: Path) -> Ranker | None:
        """The generation's ranking data, shared by the threads; None if it has just gone
        (a newer generation replaced it, and the next refresh moves there)."""
        try:
            stamp = (str(generation), os.stat(generation / ranking_files.META_FILE).st_mtime_ns)
        except OSError:
            return None
        with self._ranker_lock:
            if stamp not in self._rankers:
                try:
                    self._rankers[stamp] = ranking_files.load(generation)
                except OSError:
                    return None
                while len(self._rankers) > 2:
                    self._rankers.pop(next(iter(self._rankers)))
            return self._rankers[stamp]

    def invalidate(self) -> None:
        """Look for a newer index on the next query (after this process changed it)."""
        self._local.checked = float("-inf")

    def version(self) -> tuple:
        """Identifies the index contents, for caches."""
        searcher = self._searcher()
        return (str(self._local.generation), searcher.reader().generation())

    def teach(self, version: str, phrases: list[tuple[str, str, str]]) -> None:
        """Use these learned (slug, lang, phrase) triples from now on; `version` names them."""
        if version == self.learned_version:
            return
        learned = Learned(phrases, self.vectors) if phrases else None
        self._learned, self.learned_version = learned, version
        self._cache.clear()

    def ranker(self) -> Ranker:
        """The ranking data of the served generation, reloaded when it is rewritten."""
        self._searcher()
        return self._local.ranker

    def _filter(self, lang: str | None, category: str | None):
        if not lang and not category:
            return None
        key = (lang, category)
        filters = self._local.filters
        if key not in filters:
            parts = [Term("lang", lang)] if lang else []
            if category:
                parts.append(Term("category", category))
            filters[key] = set(self._searcher().docs_for_query(And(parts)))
        return filters[key]

    # -- queries ----------------------------------------------------------------

    def _units(self, text: str, lang: str | None, prefix_last: bool) -> list[_Unit]:
        folded = [w for w in words(clean(text)[:MAX_QUERY_CHARS]) if len(w) > 1]
        trailing_space = text[-1:].isspace()
        last = folded[-1] if folded and prefix_last and not trailing_space else None
        kept = [w for w in folded if w not in STOP_WORDS][:MAX_QUERY_TERMS]
        units = [_Unit(alts) for alts in self.synonyms.expand([stem(w) for w in kept], lang)]
        if last and kept and kept[-1] == last and len(last) >= MIN_PREFIX and not last.isdigit():
            units[-1].prefix = last
        return units

    def _corrections(self, ranker: Ranker, units: list[_Unit], text: str) -> dict[str, str]:
        """Misspelt query words (no stem in the articles) and their nearest article word."""
        fixes = {}
        prefixes = {u.prefix for u in units}
        for word in words(text[:MAX_QUERY_CHARS]):
            if word in STOP_WORDS or len(word) < 4 or word.isdigit() or word in prefixes:
                continue
            if word in fixes or ranker.articles_with(stem(word)):
                continue
            found = ranker.correction(word)
            if found:
                fixes[word] = found
        return fixes

    def search(
        self,
        query: str,
        *,
        lang: str | None = None,
        category: str | None = None,
        page: int = 1,
        per_page: int = 10,
        prefer_lang: str | None = None,
    ) -> SearchResults:
        """Whole-article search with spelling correction, filters and pages."""
        return self._run(query, lang, category, page, per_page, prefer_lang, typing=False)

    def suggest(
        self,
        query: str,
        *,
        lang: str | None = None,
        limit: int = 5,
        prefer_lang: str | None = None,
        exclude: frozenset[str] = frozenset(),
    ) -> SearchResults:
        """Articles for a question being typed, ranked as search ranks them.

        The last word counts as a prefix; each article appears in one language only (the
        reader's, when both answer); articles in `exclude` ("Not it") are left out.
        """
        key = (self.version(), self.learned_version, query, lang, limit, prefer_lang, exclude)
        found = self._cache.get(key)
        if found is None:
            found = self._run(
                query, lang, None, 1, limit, prefer_lang, typing=True, exclude=exclude
            )
            self._cache.put(key, found)
        return found

    def _run(self, text, lang, category, page, per_page, prefer_lang, typing, exclude=()):
        text = clean(text)
        units = self._units(text, lang, prefix_last=typing)
        if not units:
            return SearchResults(text, [], 0, page, per_page)
        ranker = self.ranker()
        fixes = self._corrections(ranker, units, text)
        for unit in units:
            for wrong, right in fixes.items():
                if (stem(wrong),) in unit.alternatives:
                    unit.alternatives += ((stem(right),),)
        weights = {s: 1.0 for u in units for alt in u.alternatives for s in alt}
        for unit in units:
            if unit.prefix:
                for term in ranker.prefixed(stem(unit.prefix), MAX_PREFIX_TERMS):
                    weights.setdefault(term, PREFIX_WEIGHT)
        stems = frozenset(s for u in units for alt in u.alternatives for s in alt)
        suggestion = None
        if fixes:
            suggestion = WORD.sub(lambda m: fixes.get(fold(m.group()), m.group()), text)
        # Corrections are added, not substituted: a word the articles lack may still carry
        # meaning the vectors know.
        asked = " ".join([text, *fixes.values()])
        allowed = self._allowed(ranker, lang, category)
        # Suggestions for a question (not the first letters of a word) may offer articles that
        # only mean the same; search results share a word with the question.
        meaning = per_page if typing and len(text) >= MIN_MEANING_CHARS else 0
        scores = ranker.score(asked, weights, self.vectors, lang, allowed, meaning, self._learned)
        order = self._order(ranker, scores, prefer_lang if not lang else None, typing, exclude)
        start = (page - 1) * per_page
        hits, version = [], self.version()
        for position in order[start : start + per_page].tolist():
            # What a hit shows ranking keeps, but the passage of the body a result quotes.
            body = self._passage(ranker, position, version, summary=typing)
            if body is not None:
                hits.append(
                    self._hit(
                        ranker.meta[position], body, scores.fused[position], stems, units, typing
                    )
                )
        return SearchResults(text, hits, len(order), page, per_page, suggestion, bool(fixes), stems)

    @staticmethod
    def _allowed(ranker: Ranker, lang: str | None, category: str | None) -> np.ndarray | None:
        if not lang and not category:
            return None
        mask = np.ones(len(ranker), bool)
        if lang:
            mask &= ranker.langs == lang
        if category:
            mask &= ranker.categories == category
        return mask

    @staticmethod
    def _order(ranker: Ranker, scores: Scores, prefer_lang, one_language, exclude) -> np.ndarray:
        """Found articles best first: the reader's language leads among near-equals, and
        for typing each article shows once, in the reader's language when that copy was
        found too."""
        found = scores.found.copy()
        for slug in exclude:
            if slug in ranker.position:
                found[ranker.position[slug]] = False
        positions = np.flatnonzero(found)
        key = scores.fused[positions]
        preferred = ranker.langs[positions] == prefer_lang if prefer_lang else None
        if preferred is not None:
            key = key * np.where(preferred, PREFERENCE, 1.0)
        positions = positions[np.argsort(-key, kind="stable")]
        if not one_language or not len(positions):
            return positions
        groups = ranker.groups[positions]
        _, first = np.unique(groups, return_index=True)
        first.sort()
        chosen = positions[first]
        mine = positions[ranker.langs[positions] == prefer_lang] if prefer_lang else positions[:0]
        if len(mine):
            # The best copy in the reader's language of each article, where there is one.
            kinds, best = np.unique(ranker.groups[mine], return_index=True)
            at = np.minimum(np.searchsorted(kinds, groups[first]), len(kinds) - 1)
            chosen = np.where(kinds[at] == groups[first], mine[best[at]], chosen)
        return chosen

    def _passage(
        self, ranker: Ranker, position: int, version: tuple, summary: bool
    ) -> Passage | None:
        """The text a hit quotes, split into words once per index version: the summary for
        a suggestion, the body for a search result."""
        key = (version, ranker.slugs[position], summary)
        passage = self._passages.get(key)
        if passage is None:
            if summary:
                text = ranker.meta[position]["summary"]
            else:
                fields = self._searcher().document(slug=ranker.slugs[position])
                if fields is None:
                    return None
                text = plain_text(fields.get("source", ""))
            passage = Passage.of(text)
            self._passages.put(key, passage)
        return passage

    @staticmethod
    def _hit(f: dict, body: Passage, score, stems, units, typing: bool) -> Hit:
        prefix = next((u.prefix for u in units if u.prefix), None) if typing else None
        return Hit(
            slug=f["slug"],
            title=f["title"],
            category=f["category"],
            lang=f["lang"],
            score=round(float(score or 0.0), 4),
            snippet=make_snippet(body, stems, prefix=prefix),
            summary=f.get("summary", ""),
        )

    # -- documents --------------------------------------------------------------

    def article(self, slug: str) -> StoredArticle | None:
        fields = self._searcher().document(slug=slug)
        return StoredArticle.from_fields(fields) if fields else None

    def slug_for_path(self, path: str) -> str | None:
        fields = self._searcher().document(path=path)
        return fields["slug"] if fields else None

    def articles(
        self, *, lang: str | None = None, category: str | None = None
    ) -> list[StoredArticle]:
        searcher = self._searcher()
        docs = self._filter(lang, category)
        numbers = sorted(docs) if docs is not None else list(searcher.docs_for_query(Every()))
        found = [StoredArticle.from_fields(searcher.stored_fields(n)) for n in numbers]
        return sorted(found, key=lambda a: a.title.lower())

    def translations(self, article: StoredArticle) -> list[StoredArticle]:
        """Other-language versions of an article."""
        if not article.translation_of:
            return []
        searcher = self._searcher()
        docs = searcher.docs_for_query(Term("translation_of", article.translation_of))
        found = [StoredArticle.from_fields(searcher.stored_fields(n)) for n in docs]
        return [a for a in found if a.slug != article.slug]

    def related(self, article: StoredArticle, limit: int = 5) -> list[StoredArticle]:
        """Articles of the same language most like this one by title, tags and summary,
        ranked as a question made of them would rank them."""
        key = ("related", self.version(), article.slug, limit)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        text = clean(f"{article.title} {' '.join(article.tags)} {article.summary}")
        units = self._units(text, article.lang, prefix_last=False)
        ranker = self.ranker()
        weights = {s: 1.0 for u in units for alt in u.alternatives for s in alt}
        allowed = self._allowed(ranker, article.lang, None)
        scores = ranker.score(text, weights, self.vectors, article.lang, allowed)
        order = self._order(ranker, scores, None, False, {article.slug})
        found = [self.article(ranker.slugs[p]) for p in order[:limit].tolist()]
        related = [a for a in found if a is not None]
        self._cache.put(key, related)
        return related
