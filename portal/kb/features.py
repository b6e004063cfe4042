"""What ranking computes of each article, once, when it is indexed: the stems of its
parts (with coarser roots), the character n-grams of its words, the word vectors of the
whole article and of each of its short lines, and the words spelling may offer. Large
builds are analysed in forked processes that share the loaded models. Pure: no Flask.
"""

import multiprocessing
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from portal.kb.analysis import STOP_WORDS, fold, root, terms, words
from portal.kb.vectors import WordVectors

# How often each part of an article counts for BM25 (BM25F-style repetition).
REPEATS = {"title": 4, "tags": 3, "questions": 3, "summary": 2, "body": 1}
LETTERS_BODY_CHARS = 1000
MEANING_BODY_CHARS = 1500
PARALLEL_FROM = 200
# Each article is also compared line by line: a question close to one of its lines counts.
MAX_LINES, BODY_LINES = 40, 12
MIN_LINE_CHARS, MAX_LINE_CHARS = 8, 200
NGRAMS = (1, 4)
MIN_SPELLING = 3
LETTER_SPACE = 2**20
ROOT_MARK = "~"
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


def letter_counts(text: str) -> Counter:
    """Hashed character n-grams inside each word of a text (scikit-learn's "char_wb")."""
    grams: list[int] = []
    for word in _WORD.findall(fold(text)):
        grams += _word_ngrams(word)
    return Counter(grams)


def with_roots_counted(stems: list[str]) -> Counter:
    """Stems and, marked apart, the coarser roots that join derived words."""
    counts = Counter(stems)
    counts.update(ROOT_MARK + r for s in stems if (r := root(s)) != s)
    return counts


Row = tuple[np.ndarray, np.ndarray]


def to_row(columns, counts: Counter) -> Row:
    size = len(counts)
    return (
        np.fromiter(columns, np.int32, size),
        np.fromiter(counts.values(), np.float32, size),
    )


@dataclass
class Features:
    """One article's countable and embeddable parts, computed apart from the vocabulary."""

    terms: Counter
    letters: Row
    navec: np.ndarray
    llama: np.ndarray
    line_navec: np.ndarray
    line_llama: np.ndarray
    line_question: np.ndarray
    spelling: set[str]


def _analyse_batch(docs: list[RankDoc], vectors: WordVectors) -> list[Features]:
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
            Features(
                with_roots_counted(terms(doc.bm25_text())),
                to_row(letters, letters),
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


def _analyse_in_worker(docs: list[RankDoc]) -> list[Features]:
    return _analyse_batch(docs, _worker_vectors)


def analyse(docs: list[RankDoc], vectors: WordVectors, procs: int) -> list[Features]:
    """Every article analysed, in forked processes that share the loaded models."""
    if procs <= 1 or len(docs) < PARALLEL_FROM:
        return _analyse_batch(docs, vectors)
    global _worker_vectors
    _worker_vectors = vectors  # inherited by the forked workers, not pickled
    size = -(-len(docs) // (procs * 4))
    chunks = [docs[i : i + size] for i in range(0, len(docs), size)]
    with multiprocessing.get_context("fork").Pool(procs) as pool:
        return [a for chunk in pool.map(_analyse_in_worker, chunks) for a in chunk]


class Vocabulary:
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

    def row(self, counts: Counter) -> "Row":
        """The counts as columns and values, new names added."""
        for name in [n for n in counts if n not in self.index]:
            self.column(name)
        return to_row(map(self.index.__getitem__, counts), counts)


def stack(rows: list[Row], width: int) -> sp.csr_matrix:
    """One sparse row per (columns, values)."""
    indptr = np.concatenate([[0], np.cumsum([len(cols) for cols, _ in rows])])
    indices = np.concatenate([cols for cols, _ in rows]) if rows else np.zeros(0, np.int32)
    data = np.concatenate([values for _, values in rows]) if rows else np.zeros(0, np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), width))


def widen(matrix: sp.csr_matrix, width: int) -> sp.csr_matrix:
    return sp.csr_matrix((matrix.data, matrix.indices, matrix.indptr), (matrix.shape[0], width))
