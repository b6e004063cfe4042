"""Ranking whole articles by fused evidence: words, letters and meaning.

Every article is scored against a question by four signals, each scaled so that the
best article of the question scores 1, then added with weights per question language:

- BM25 over stems of the whole article, title > tags and questions > summary > body;
- cosine of character 1-4-grams inside words (TF-IDF), which survives typos, unknown
  word forms, transliteration and half-typed words;
- cosine of Russian word vectors (navec over pymorphy3 lemmas);
- cosine of WordLlama token embeddings (English, and what Russian it knows).

Weights were chosen on the training parts of public question sets (`portal eval`) and
hold for the starter knowledge base. The data lives beside each Whoosh generation in two
files and is rewritten atomically when articles change; what is computed of each article
is `portal.kb.features`. Pure: no Flask, no database.
"""

from bisect import bisect_left

import numpy as np
import scipy.sparse as sp

from portal.kb import spelling
from portal.kb.analysis import stem
from portal.kb.features import (
    LETTER_SPACE,
    ROOT_MARK,
    RankDoc,
    Vocabulary,
    analyse,
    letter_counts,
    stack,
    widen,
)
from portal.kb.question import (
    Learned,
    Question,
    Scores,
    columns_dot,
    cosines,
    query_language,
    with_roots,
)
from portal.kb.vectors import NAVEC_DIM, WORDLLAMA_DIM, WordVectors

K1, B = 1.2, 0.75
# Words earn weight when the best article holds most of them: a knowledge base whose
# articles use the customer's words (BM25 up to this weight); scattered overlaps do not.
COVERED_BM25 = 0.5
COVERAGE_POWER = 2
# The questions editors list in an article's front matter are how customers ask: the
# closest of them is a signal of its own.
QUESTIONS_WEIGHT = 1.0
# Signal weights per question language: BM25, letters, navec and WordLlama on the whole
# article, then navec and WordLlama on its closest line, then its closest listed question.
WEIGHTS = {
    "ru": (0.0, 0.75, 1.0, 1.5, 0.5, 0.5, QUESTIONS_WEIGHT),
    "en": (0.5, 0.75, 0.5, 1.5, 0.0, 1.0, QUESTIONS_WEIGHT),
}
# A suggestion may share no word with the question when it is among the best few by
# meaning, close to the best, and the question means something to the models.
MEANING_FLOOR = 0.3
# A question this close to a phrase readers taught (0-1) lifts its article by up to this much.
LEARNED_FLOOR = 0.7
LEARNED_WEIGHT = 3.5
# Below these similarities a question means nothing to the models ("xyzzy", "asdf qwer");
# letters are no evidence alone: any text shares some with any article.
EVIDENCE = {"navec": 0.35, "wordllama": 0.35}


class Ranker:
    """The ranking data of one index generation, and scoring against it."""

    def __init__(
        self,
        meta: list[dict],
        term_vocab,
        tf,
        lengths,
        letters,
        navec,
        llama,
        line_owner=None,
        line_question=None,
        line_navec=None,
        line_llama=None,
        spelling_words=None,
    ):
        self.meta = meta
        # Grows with the articles; a word whose articles are gone has no stem left to find.
        self.spelling_words: list[str] = sorted(spelling_words or [])
        self.terms = term_vocab
        self.term_counts = tf
        self.lengths = lengths
        self.gram_counts = letters
        self.navec = navec
        self.llama = llama
        self.line_owner = np.zeros(0, np.int32) if line_owner is None else line_owner
        self.line_question = (
            np.zeros(len(self.line_owner), bool) if line_question is None else line_question
        )
        self.line_navec = np.zeros((0, NAVEC_DIM), np.float16) if line_navec is None else line_navec
        self.line_llama = (
            np.zeros((0, WORDLLAMA_DIM), np.float16) if line_llama is None else line_llama
        )
        self._prepare()

    # -- building and storing ---------------------------------------------------

    @classmethod
    def empty(cls) -> "Ranker":
        return cls(
            [],
            Vocabulary(),
            sp.csr_matrix((0, 0), dtype=np.float32),
            np.zeros(0, np.float32),
            sp.csr_matrix((0, LETTER_SPACE), dtype=np.float32),
            np.zeros((0, NAVEC_DIM), np.float16),
            np.zeros((0, WORDLLAMA_DIM), np.float16),
        )

    @classmethod
    def build(cls, docs: list[RankDoc], vectors: WordVectors, procs: int = 1) -> "Ranker":
        """Ranking data for these articles."""
        ranker = cls.empty()
        ranker.upsert(docs, vectors, procs)
        return ranker

    def upsert(self, docs: list[RankDoc], vectors: WordVectors, procs: int = 1) -> None:
        """Add these articles, replacing any with the same slug; with `procs` > 1 the
        articles are analysed in that many processes."""
        if not docs:
            return
        self.remove([d.slug for d in docs])
        parts = analyse(docs, vectors, procs)
        term_rows = [self.terms.row(p.terms) for p in parts]
        letter_rows = [p.letters for p in parts]
        width_t, width_l = len(self.terms.names), LETTER_SPACE
        self.term_counts = sp.vstack(
            [widen(self.term_counts, width_t), stack(term_rows, width_t)]
        ).tocsr()
        self.gram_counts = sp.vstack(
            [widen(self.gram_counts, width_l), stack(letter_rows, width_l)]
        ).tocsr()
        lengths = [float(values.sum()) for _, values in term_rows]
        self.lengths = np.concatenate([self.lengths, np.asarray(lengths, np.float32)])
        self.navec = np.vstack([self.navec, *[p.navec for p in parts]])
        self.llama = np.vstack([self.llama, *[p.llama for p in parts]])
        first = len(self.meta)
        owners = [first + i for i, p in enumerate(parts) for _ in range(len(p.line_navec))]
        self.line_owner = np.concatenate([self.line_owner, np.asarray(owners, np.int32)])
        self.line_question = np.concatenate([self.line_question, *[p.line_question for p in parts]])
        self.line_navec = np.vstack([self.line_navec, *[p.line_navec for p in parts]])
        self.line_llama = np.vstack([self.line_llama, *[p.line_llama for p in parts]])
        new_words = set().union(*(p.spelling for p in parts)).difference(self.spelling_words)
        if new_words:
            self.spelling_words = sorted([*self.spelling_words, *new_words])
        self.meta += [
            {
                "slug": d.slug,
                "lang": d.lang,
                "category": d.category,
                "translation_of": d.translation_of,
                "title": d.title,
                "summary": d.summary,
            }
            for d in docs
        ]
        self._prepare()

    def remove(self, slugs: list[str]) -> None:
        """Take these articles out."""
        gone = set(slugs)
        keep = [i for i, m in enumerate(self.meta) if m["slug"] not in gone]
        if len(keep) == len(self.meta):
            return
        renumber = np.full(len(self.meta), -1, np.int32)
        renumber[keep] = np.arange(len(keep), dtype=np.int32)
        self.meta = [self.meta[i] for i in keep]
        self.term_counts = self.term_counts[keep]
        self.gram_counts = self.gram_counts[keep]
        self.lengths = self.lengths[keep]
        self.navec = self.navec[keep]
        self.llama = self.llama[keep]
        kept_lines = renumber[self.line_owner] >= 0
        self.line_owner = renumber[self.line_owner[kept_lines]]
        self.line_question = self.line_question[kept_lines]
        self.line_navec = self.line_navec[kept_lines]
        self.line_llama = self.line_llama[kept_lines]
        self._prepare()

    # -- scoring ----------------------------------------------------------------

    def _prepare(self) -> None:
        """Turn raw counts into BM25 and TF-IDF weights for the current collection."""
        n = len(self.meta)
        self.slugs = [m["slug"] for m in self.meta]
        self.position = {s: i for i, s in enumerate(self.slugs)}
        self.langs = np.asarray([m["lang"] for m in self.meta])
        keys: dict[str, int] = {}
        self.groups = np.asarray(
            [keys.setdefault(m.get("translation_of") or m["slug"], len(keys)) for m in self.meta],
            dtype=np.int64,
        )
        self.categories = np.asarray([m["category"] for m in self.meta])
        self._stems_sorted = None
        if n == 0:
            self._df = np.zeros(len(self.terms.names), np.float32)
            self._bm25 = sp.csc_matrix((0, 0), dtype=np.float32)
            self._tfidf = sp.csc_matrix((0, 0), dtype=np.float32)
            self._letter_idf = np.zeros(LETTER_SPACE, np.float32)
            self._letter_df = np.zeros(LETTER_SPACE, np.int64)
            self._navec32 = np.zeros((0, NAVEC_DIM), np.float32)
            self._llama32 = np.zeros((0, WORDLLAMA_DIM), np.float32)
            self._line_owner = np.zeros(0, np.int32)
            self._line_navec32 = np.zeros((0, NAVEC_DIM), np.float32)
            self._line_llama32 = np.zeros((0, WORDLLAMA_DIM), np.float32)
            self._line_starts = np.zeros(0, np.int64)
            self._line_question = np.zeros(0, bool)
            return
        tf = self.term_counts.tocoo()
        df = np.bincount(tf.col, minlength=tf.shape[1]).astype(np.float32)
        self._df = df
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        average = float(self.lengths.mean()) or 1.0
        norm = K1 * (1 - B + B * self.lengths[tf.row] / average)
        weights = tf.data * (K1 + 1) / (tf.data + norm) * idf[tf.col]
        self._bm25 = sp.csc_matrix((weights.astype(np.float32), (tf.row, tf.col)), shape=tf.shape)
        letters = self.gram_counts.tocoo()
        self._letter_df = np.bincount(letters.col, minlength=LETTER_SPACE)
        self._letter_idf = (np.log((1 + n) / (1 + self._letter_df)) + 1).astype(np.float32)
        values = (1 + np.log(letters.data)) * self._letter_idf[letters.col]
        tfidf = sp.csr_matrix(
            (values.astype(np.float32), (letters.row, letters.col)), letters.shape
        )
        lengths = np.sqrt(np.asarray(tfidf.multiply(tfidf).sum(axis=1)).ravel())
        lengths[lengths == 0] = 1.0
        self._tfidf = sp.csc_matrix(sp.diags(1 / lengths) @ tfidf, dtype=np.float32)
        self._navec32 = self.navec.astype(np.float32)
        self._llama32 = self.llama.astype(np.float32)
        order = np.argsort(self.line_owner, kind="stable")
        self._line_owner = self.line_owner[order]
        self._line_question = self.line_question[order]
        self._line_navec32 = self.line_navec[order].astype(np.float32)
        self._line_llama32 = self.line_llama[order].astype(np.float32)
        self._line_starts = np.flatnonzero(np.r_[True, np.diff(self._line_owner) != 0])

    def __len__(self) -> int:
        return len(self.meta)

    # -- words ------------------------------------------------------------------

    def articles_with(self, stem_: str) -> int:
        """How many articles hold this stem."""
        col = self.terms.index.get(stem_)
        return 0 if col is None or col >= len(self._df) else int(self._df[col])

    def prefixed(self, prefix: str, limit: int) -> list[str]:
        """The stems the most articles hold among those starting with `prefix`."""
        if self._stems_sorted is None:
            self._stems_sorted = sorted(n for n in self.terms.names if not n.startswith(ROOT_MARK))
        names = self._stems_sorted
        found = names[bisect_left(names, prefix) : bisect_left(names, prefix + "\uffff")]
        counts = np.asarray([self.articles_with(n) for n in found], np.float32)
        order = np.argsort(-counts, kind="stable")[:limit]
        return [found[i] for i in order if counts[i] > 0]

    def correction(self, word: str) -> str | None:
        """The article word closest to a word no article holds."""
        return spelling.nearest(self.spelling_words, word, lambda w: self.articles_with(stem(w)))

    def bm25(self, stems: dict[str, float]) -> np.ndarray:
        """BM25 of every article for query stems (stem -> weight)."""
        cols = [self.terms.index[s] for s in stems if s in self.terms.index]
        if not cols:
            return np.zeros(len(self), np.float32)
        weights = np.asarray([stems[self.terms.names[c]] for c in cols], np.float32)
        return columns_dot(self._bm25, np.asarray(cols), weights)

    def letters(self, text: str) -> np.ndarray:
        """Cosine of character n-grams of every article and the text."""
        counts = letter_counts(text)
        known = [(g, c) for g, c in counts.items() if self._letter_df[g]]
        if not known:
            return np.zeros(len(self), np.float32)
        cols = np.asarray([g for g, _ in known])
        values = 1 + np.log(np.asarray([c for _, c in known], np.float32))
        values *= self._letter_idf[cols]
        values /= np.linalg.norm(values) or 1.0
        return columns_dot(self._tfidf, cols, values)

    def closest_question(self, lines_llama, lines_navec, language: str) -> np.ndarray:
        """Per article, the similarity of its closest `questions:` entry (0 without any)."""
        if not self._line_question.any():
            return np.zeros(len(self), np.float32)
        similarity = lines_llama if language != "ru" else 0.5 * (lines_llama + lines_navec)
        return np.maximum(self._per_article(np.where(self._line_question, similarity, -1.0)), 0)

    def _per_article(self, similarity: np.ndarray) -> np.ndarray:
        """The best of each article's lines (lines are kept sorted by article)."""
        best = np.zeros(len(self), np.float32)
        if not len(self._line_owner):
            return best
        best[self._line_owner[self._line_starts]] = np.maximum.reduceat(
            similarity, self._line_starts
        )
        return best

    def coverage(self, stems: dict[str, float], position: int) -> float:
        """Share of the question's words (not prefixes) that an article contains."""
        words = [s for s, weight in stems.items() if weight >= 1.0]
        if not words:
            return 0.0
        cols = [self.terms.index[s] for s in words if s in self.terms.index]
        held = self.term_counts.indices[
            self.term_counts.indptr[position] : self.term_counts.indptr[position + 1]
        ]
        present = int(np.isin(cols, held).sum()) if cols else 0
        return (present / len(words)) ** COVERAGE_POWER

    def score(
        self,
        text: str,
        stems: dict[str, float],
        vectors: WordVectors,
        lang: str | None = None,
        allowed: np.ndarray | None = None,
        by_meaning: int = 0,
        learned: "Learned | None" = None,
    ) -> "Scores":
        """Fused scores of every article for a question, and which ones count as found:
        those sharing a word with it, and up to `by_meaning` more that only mean the same."""
        language = query_language(text, lang)
        weights = WEIGHTS[language]
        mask = np.ones(len(self), bool) if allowed is None else allowed
        lexical = np.where(mask, self.bm25(with_roots(stems)), 0)
        question = Question(text, vectors)
        # Each line once against the question; every line signal reads these.
        lines_navec = cosines(self._line_navec32, question.navec)
        lines_llama = cosines(self._line_llama32, question.llama)
        signals = {
            "bm25": lexical,
            "letters": self.letters(text),
            "navec": cosines(self._navec32, question.navec),
            "wordllama": cosines(self._llama32, question.llama),
            "navec line": self._per_article(lines_navec) if weights[4] else None,
            "wordllama line": self._per_article(lines_llama) if weights[5] else None,
            "questions": self.closest_question(lines_llama, lines_navec, language),
        }
        fused = np.zeros(len(self), np.float32)
        evidence = False
        for weight, (name, signal) in zip(weights, signals.items(), strict=True):
            if signal is None:
                continue
            signal = np.where(mask, np.maximum(signal, 0), 0)
            top = float(signal.max()) if len(signal) else 0.0
            evidence |= top >= EVIDENCE.get(name, float("inf"))
            if name == "bm25" and top > 0:
                weight = max(weight, COVERED_BM25 * self.coverage(stems, int(signal.argmax())))
            if weight and top > 0:
                fused += weight * signal / top
        found = lexical > 0
        if learned is not None and len(self):
            taught = np.where(mask, learned.similarity(question, language, self.position), 0)
            taught[taught < LEARNED_FLOOR] = 0
            fused += LEARNED_WEIGHT * taught
            found |= taught > 0
        if by_meaning and evidence and fused.any():
            best = np.argsort(-fused)[:by_meaning]
            close = best[fused[best] >= MEANING_FLOOR * float(fused.max())]
            found[close[mask[close]]] = True
        return Scores(fused, found)
