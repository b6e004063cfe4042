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
files and is rewritten atomically when articles change. Pure: no Flask, no database.
"""

import json
import math
import multiprocessing
import os
import re
import zlib
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from portal.kb import spelling
from portal.kb.analysis import STOP_WORDS, fold, language_of, root, stem, terms, words
from portal.kb.vectors import NAVEC_DIM, WORDLLAMA_DIM, WordVectors

DATA_FILE = "ranking.npz"
META_FILE = "ranking.json"
FORMAT = 4
# How often each part of an article counts for BM25 (BM25F-style repetition).
REPEATS = {"title": 4, "tags": 3, "questions": 3, "summary": 2, "body": 1}
LETTERS_BODY_CHARS = 1000
MEANING_BODY_CHARS = 1500
K1, B = 1.2, 0.75
PARALLEL_FROM = 200
# Words earn weight when the best article holds most of them: a knowledge base whose
# articles use the customer's words (BM25 up to this weight); scattered overlaps do not.
COVERED_BM25 = 0.5
COVERAGE_POWER = 2
# Each article is also compared line by line: a question close to one of its lines counts.
MAX_LINES, BODY_LINES = 40, 12
MIN_LINE_CHARS, MAX_LINE_CHARS = 8, 200
NGRAMS = (1, 4)
MIN_SPELLING = 3
LETTER_SPACE = 2**20
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
_WORD = re.compile(r"\w+")


@dataclass
class RankDoc:
    """What ranking needs of one article."""

    slug: str
    lang: str
    category: str
    title: str
    summary: str = ""
    tags: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    body: str = ""
    translation_of: str = ""

    def bm25_text(self) -> str:
        parts = {
            "title": self.title,
            "tags": " ".join(self.tags),
            "questions": " ".join(self.questions),
            "summary": self.summary,
            "body": self.body,
        }
        return " ".join(" ".join([parts[name]] * n) for name, n in REPEATS.items())

    def letters_text(self) -> str:
        head = [self.title, " ".join(self.tags), self.summary, *self.questions]
        return " ".join([*head, self.body[:LETTERS_BODY_CHARS]])

    def lines(self) -> list[str]:
        """The article's own short statements of what it answers: its title, its questions
        and the first short lines or list items of its body (FAQ-style articles)."""
        short = [
            line.strip(" -*•\t")
            for line in self.body.splitlines()
            if MIN_LINE_CHARS <= len(line.strip(" -*•\t")) <= MAX_LINE_CHARS
        ]
        return [self.title, *self.questions, *short[:BODY_LINES]][:MAX_LINES]

    def meaning_text(self) -> str:
        head = [self.title, " ".join(self.tags), self.summary, *self.questions]
        return "\n".join([*head, self.body[:MEANING_BODY_CHARS]])

    def spelling(self) -> set[str]:
        """The words a misspelt question may be corrected to."""
        text = " ".join([self.title, *self.tags, *self.questions, self.summary, self.body])
        return {w for w in words(text) if len(w) >= MIN_SPELLING and w not in STOP_WORDS}


@lru_cache(maxsize=200_000)
def _word_ngrams(word: str) -> tuple[int, ...]:
    """The hashed character n-grams of a word: no vocabulary to share between processes,
    collisions too rare to matter among 2^20 columns."""
    padded = f" {word} "
    low, high = NGRAMS
    return tuple(
        zlib.crc32(padded[i : i + n].encode()) & (LETTER_SPACE - 1)
        for n in range(low, high + 1)
        for i in range(len(padded) - n + 1)
    )


def cosines(rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """Dot products of unit rows and a unit vector. numpy's own loop: on the BLAS builds
    some machines need (OPENBLAS_CORETYPE pinned) a matrix-vector product is 5-10x slower."""
    return np.einsum("ij,j->i", rows, vector)


def letter_counts(text: str) -> Counter:
    """Hashed character n-grams inside each word of a text (scikit-learn's "char_wb")."""
    grams: list[int] = []
    for word in _WORD.findall(fold(text)):
        grams += _word_ngrams(word)
    return Counter(grams)


ROOT_MARK = "~"
ROOT_WEIGHT = 0.3


def _with_roots(stems: list[str]) -> Counter:
    """Stems and, marked apart, the coarser roots that join derived words."""
    counts = Counter(stems)
    counts.update(ROOT_MARK + r for s in stems if (r := root(s)) != s)
    return counts


def with_roots(stems: dict[str, float]) -> dict[str, float]:
    """Query stems plus their roots at a lower weight ("отправить" meets "отправка")."""
    found = dict(stems)
    for s, weight in stems.items():
        if (r := root(s)) != s:
            key = ROOT_MARK + r
            found[key] = max(found.get(key, 0.0), weight * ROOT_WEIGHT)
    return found


def query_language(text: str, lang: str | None) -> str:
    """The language whose weights score a question: the one asked for, else by its script."""
    return lang if lang in WEIGHTS else language_of(text)


_Row = tuple[np.ndarray, np.ndarray]


def _row(columns, counts: Counter) -> _Row:
    size = len(counts)
    return (
        np.fromiter(columns, np.int32, size),
        np.fromiter(counts.values(), np.float32, size),
    )


@dataclass
class _Analysed:
    """One article's countable and embeddable parts, computed apart from the vocabulary."""

    terms: Counter
    letters: _Row
    navec: np.ndarray
    llama: np.ndarray
    line_navec: np.ndarray
    line_llama: np.ndarray
    line_question: np.ndarray
    spelling: set[str]


def _analyse_batch(docs: list[RankDoc], vectors: WordVectors) -> list[_Analysed]:
    texts = [d.meaning_text() for d in docs]
    meaning = vectors.navec(texts).astype(np.float16)
    llama = vectors.wordllama(texts).astype(np.float16)
    lines = [d.lines() for d in docs]
    every_line = [line for own in lines for line in own]
    line_navec = vectors.navec(every_line).astype(np.float16)
    line_llama = vectors.wordllama(every_line).astype(np.float16)
    out, start = [], 0
    for i, doc in enumerate(docs):
        end = start + len(lines[i])
        asked = np.zeros(len(lines[i]), bool)
        letters = letter_counts(doc.letters_text())
        asked[1 : 1 + len(doc.questions)] = True
        out.append(
            _Analysed(
                _with_roots(terms(doc.bm25_text())),
                _row(letters, letters),
                meaning[i : i + 1],
                llama[i : i + 1],
                line_navec[start:end],
                line_llama[start:end],
                asked,
                doc.spelling(),
            )
        )
        start = end
    return out


_worker_vectors: WordVectors | None = None


def _analyse_in_worker(docs: list[RankDoc]) -> list[_Analysed]:
    return _analyse_batch(docs, _worker_vectors)


def _analyse(docs: list[RankDoc], vectors: WordVectors, procs: int) -> list[_Analysed]:
    """Every article analysed, in forked processes that share the loaded models."""
    if procs <= 1 or len(docs) < PARALLEL_FROM:
        return _analyse_batch(docs, vectors)
    global _worker_vectors
    _worker_vectors = vectors  # inherited by the forked workers, not pickled
    size = -(-len(docs) // (procs * 4))
    chunks = [docs[i : i + size] for i in range(0, len(docs), size)]
    with multiprocessing.get_context("fork").Pool(procs) as pool:
        return [a for chunk in pool.map(_analyse_in_worker, chunks) for a in chunk]


class _Vocabulary:
    """Feature name -> column, growing as articles arrive."""

    def __init__(self, names: list[str] | None = None):
        self.names = list(names or [])
        self.index = {n: i for i, n in enumerate(self.names)}

    def column(self, name: str) -> int:
        col = self.index.get(name)
        if col is None:
            col = self.index[name] = len(self.names)
            self.names.append(name)
        return col

    def row(self, counts: Counter) -> "_Row":
        """The counts as columns and values, new names added."""
        for name in [n for n in counts if n not in self.index]:
            self.column(name)
        return _row(map(self.index.__getitem__, counts), counts)


def _stack(rows: list[_Row], width: int) -> sp.csr_matrix:
    """One sparse row per (columns, values)."""
    indptr = np.concatenate([[0], np.cumsum([len(cols) for cols, _ in rows])])
    indices = np.concatenate([cols for cols, _ in rows]) if rows else np.zeros(0, np.int32)
    data = np.concatenate([values for _, values in rows]) if rows else np.zeros(0, np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), width))


def _widen(matrix: sp.csr_matrix, width: int) -> sp.csr_matrix:
    return sp.csr_matrix((matrix.data, matrix.indices, matrix.indptr), (matrix.shape[0], width))


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
        self._tf = tf
        self._lengths = lengths
        self._letters = letters
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
            _Vocabulary(),
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
        parts = _analyse(docs, vectors, procs)
        term_rows = [self.terms.row(p.terms) for p in parts]
        letter_rows = [p.letters for p in parts]
        width_t, width_l = len(self.terms.names), LETTER_SPACE
        self._tf = sp.vstack([_widen(self._tf, width_t), _stack(term_rows, width_t)]).tocsr()
        self._letters = sp.vstack(
            [_widen(self._letters, width_l), _stack(letter_rows, width_l)]
        ).tocsr()
        lengths = [float(values.sum()) for _, values in term_rows]
        self._lengths = np.concatenate([self._lengths, np.asarray(lengths, np.float32)])
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
        self._lengths_before = self._lengths
        self.meta = [self.meta[i] for i in keep]
        self._tf = self._tf[keep]
        self._letters = self._letters[keep]
        self._lengths = self._lengths[keep]
        self.navec = self.navec[keep]
        self.llama = self.llama[keep]
        renumber = np.full(len(self._lengths_before), -1, np.int32)
        renumber[keep] = np.arange(len(keep), dtype=np.int32)
        kept_lines = renumber[self.line_owner] >= 0
        self.line_owner = renumber[self.line_owner[kept_lines]]
        self.line_question = self.line_question[kept_lines]
        self.line_navec = self.line_navec[kept_lines]
        self.line_llama = self.line_llama[kept_lines]
        self._prepare()

    def save(self, folder: Path) -> None:
        """Write the data into an index generation, replacing what was there atomically."""
        folder = Path(folder)
        data_tmp, meta_tmp = folder / f".{DATA_FILE}.tmp", folder / f".{META_FILE}.tmp"
        with open(data_tmp, "wb") as f:
            np.savez(
                f,
                tf_data=self._tf.data,
                tf_indices=self._tf.indices,
                tf_indptr=self._tf.indptr,
                letters_data=self._letters.data,
                letters_indices=self._letters.indices,
                letters_indptr=self._letters.indptr,
                lengths=self._lengths,
                navec=self.navec,
                llama=self.llama,
                line_owner=self.line_owner,
                line_question=self.line_question,
                line_navec=self.line_navec,
                line_llama=self.line_llama,
            )
        meta = {
            "format": FORMAT,
            "docs": self.meta,
            "terms": self.terms.names,
            "words": self.spelling_words,
        }
        meta_tmp.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        # The data file first: a reader that sees the new metadata finds matching data.
        os.replace(data_tmp, folder / DATA_FILE)
        os.replace(meta_tmp, folder / META_FILE)

    @classmethod
    def load(cls, folder: Path) -> "Ranker":
        """The data saved in an index generation."""
        folder = Path(folder)
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError("ranking data of another format")
        with np.load(folder / DATA_FILE) as z:
            n = len(meta["docs"])
            tf = sp.csr_matrix(
                (z["tf_data"], z["tf_indices"], z["tf_indptr"]), shape=(n, len(meta["terms"]))
            )
            letters = sp.csr_matrix(
                (z["letters_data"], z["letters_indices"], z["letters_indptr"]),
                shape=(n, LETTER_SPACE),
            )
            return cls(
                meta["docs"],
                _Vocabulary(meta["terms"]),
                tf,
                z["lengths"],
                letters,
                z["navec"],
                z["llama"],
                z["line_owner"],
                z["line_question"],
                z["line_navec"],
                z["line_llama"],
                meta["words"],
            )

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
        tf = self._tf.tocoo()
        df = np.bincount(tf.col, minlength=tf.shape[1]).astype(np.float32)
        self._df = df
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        average = float(self._lengths.mean()) or 1.0
        norm = K1 * (1 - B + B * self._lengths[tf.row] / average)
        weights = tf.data * (K1 + 1) / (tf.data + norm) * idf[tf.col]
        self._bm25 = sp.csc_matrix((weights.astype(np.float32), (tf.row, tf.col)), shape=tf.shape)
        letters = self._letters.tocoo()
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
        return np.asarray(self._bm25[:, cols] @ weights).ravel()

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
        return np.asarray(self._tfidf[:, cols] @ values).ravel()

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
        present = self._tf[position, cols].count_nonzero() if cols else 0
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


class Question:
    """A question's letters and vectors, computed once for every signal that needs them."""

    def __init__(self, text: str, vectors: WordVectors):
        self.text = text
        self.navec = vectors.navec([text])[0]
        self.llama = vectors.wordllama([text])[0]
        self.letters = _unit_counts(letter_counts(text))


def _unit_counts(counts: Counter) -> dict[str, float]:
    """Sub-linear n-gram counts scaled to unit length (a cosine without corpus weights)."""
    values = {g: 1 + math.log(c) for g, c in counts.items()}
    length = math.sqrt(sum(v * v for v in values.values())) or 1.0
    return {g: v / length for g, v in values.items()}


class Learned:
    """Phrases readers taught the portal (`portal.kb.learning`), each leading to an article.

    A question close to a learned phrase lifts that phrase's article: by letters and by
    the word vectors of the question's language, so a new wording of the same words counts.
    """

    def __init__(self, phrases: list[tuple[str, str, str]], vectors: WordVectors):
        self.slugs = [slug for slug, _, _ in phrases]
        texts = [phrase for _, _, phrase in phrases]
        self.letters = [_unit_counts(letter_counts(t)) for t in texts]
        self.navec = vectors.navec(texts)
        self.llama = vectors.wordllama(texts)

    def __len__(self) -> int:
        return len(self.slugs)

    def similarity(self, question: Question, language: str, position: dict) -> np.ndarray:
        """Per article, the closest learned phrase's similarity to the question."""
        best = np.zeros(len(position), np.float32)
        if not self.slugs:
            return best
        meaning = cosines(
            self.navec if language == "ru" else self.llama,
            question.navec if language == "ru" else question.llama,
        )
        for i, slug in enumerate(self.slugs):
            at = position.get(slug)
            if at is None:
                continue
            shared = self.letters[i].keys() & question.letters.keys()
            letters = sum(self.letters[i][g] * question.letters[g] for g in shared)
            best[at] = max(best[at], 0.5 * letters + 0.5 * max(float(meaning[i]), 0.0))
        return best


@dataclass
class Scores:
    """Fused scores of every article and which of them are results."""

    fused: np.ndarray
    found: np.ndarray

    def ranked(self) -> list[int]:
        """Positions of the found articles, best first."""
        positions = np.flatnonzero(self.found)
        return positions[np.argsort(-self.fused[positions], kind="stable")].tolist()


def ranking_exists(folder: Path) -> bool:
    return (Path(folder) / META_FILE).exists() and (Path(folder) / DATA_FILE).exists()
