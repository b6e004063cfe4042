"""A question's side of ranking: its stems with coarser roots, its language, its letters
and vectors computed once for every signal, the phrases readers taught, and the fused
scores a question gets. Pure: no Flask, no database.
"""

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from portal.kb.analysis import language_of, root
from portal.kb.features import ROOT_MARK, letter_counts
from portal.kb.vectors import WordVectors

ROOT_WEIGHT = 0.3
# Languages with weights of their own; any other question is scored by its script.
LANGUAGES = ("ru", "en")


def cosines(rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """Dot products of unit rows and a unit vector. numpy's own loop: on the BLAS builds
    some machines need (OPENBLAS_CORETYPE pinned) a matrix-vector product is 5-10x slower."""
    return np.einsum("ij,j->i", rows, vector)


def columns_dot(matrix: sp.csc_matrix, cols: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """`matrix[:, cols] @ weights` without building the sliced matrix: the few columns a
    question touches are gathered straight from the compressed arrays."""
    starts, ends = matrix.indptr[cols], matrix.indptr[cols + 1]
    lengths = ends - starts
    total = int(lengths.sum())
    if not total:
        return np.zeros(matrix.shape[0], np.float32)
    first = np.cumsum(lengths) - lengths
    at = np.repeat(starts - first, lengths) + np.arange(total)
    values = matrix.data[at] * np.repeat(weights.astype(np.float32), lengths)
    return np.bincount(matrix.indices[at], values, matrix.shape[0]).astype(np.float32)


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
    return lang if lang in LANGUAGES else language_of(text)


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
