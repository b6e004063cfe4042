"""The meaning layer of the scope check: a request no pattern catches is compared with
each rule's example requests and with in-scope counter-examples.

Four similarities, as in search (`portal.kb.ranking`): lemmas (pymorphy3 for Russian,
Snowball stems for English, IDF-weighted), character 1-4-grams inside words (TF-IDF,
which survives typos), Russian word vectors (navec) and WordLlama embeddings. Each
label's score is the mean of its best few examples; a rule wins only when its score
clears a floor and beats the in-scope score by a margin, and when enough of the
request's nearest examples of all labels are that rule's (all in the rules file).
Pure: no Flask, no database.
"""

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from portal.kb.analysis import CYRILLIC, fold, language_of, stem
from portal.kb.features import letter_counts
from portal.kb.vectors import WordVectors
from portal.scope.rules import VERDICTS, Rules

IN_SCOPE = "in_scope"
SIGNALS = ("lemmas", "letters", "navec", "wordllama")
# Signal weights per request language, in the order of SIGNALS.
WEIGHTS = {"ru": (1.0, 0.75, 1.0, 0.5), "en": (1.0, 1.0, 0.0, 0.5)}
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Example:
    """One example request: the rule it illustrates (or in_scope) and its text."""

    label: str
    lang: str
    text: str


@dataclass(frozen=True)
class MeaningMatch:
    """A rule chosen by meaning: the nearest example of it and how clearly it won."""

    rule: str
    example: str
    score: float
    in_scope_score: float


@dataclass(frozen=True)
class _Features:
    lemmas: sp.csr_matrix
    letters: sp.csr_matrix
    navec: np.ndarray
    wordllama: np.ndarray


class _Space:
    """A TF-IDF space (sublinear counts) fixed by the example pool."""

    def __init__(self, bags: list[Counter]):
        df = Counter(key for bag in bags for key in bag)
        self.index = {key: i for i, key in enumerate(sorted(df))}
        n = len(bags)
        self.idf = np.asarray(
            [math.log((1 + n) / (1 + df[key])) + 1 for key in sorted(df)], np.float32
        )
        self.unknown_idf = math.log(1 + n) + 1

    def row(self, bag: Counter) -> sp.csr_matrix:
        """The unit TF-IDF row of a bag; words the pool lacks count towards its length."""
        cols, values, unknown = [], [], 0.0
        for key, count in bag.items():
            weight = 1 + math.log(count)
            if key in self.index:
                cols.append(self.index[key])
                values.append(weight * self.idf[self.index[key]])
            else:
                unknown += (weight * self.unknown_idf) ** 2
        norm = math.sqrt(sum(v * v for v in values) + unknown) or 1.0
        data = np.asarray(values, np.float32) / norm
        return sp.csr_matrix(
            (data, (np.zeros(len(cols), int), np.asarray(cols, int))),
            shape=(1, len(self.index)),
        )


class Meaning:
    """The examples of one rules file as vectors, and the vote of a request over them."""

    def __init__(self, rules: Rules, vectors: WordVectors):
        self.rules = rules
        self.vectors = vectors
        self.examples = [
            Example(label, lang, text)
            for rule in rules.rules
            for label, by_lang in ((rule.id, rule.examples), (IN_SCOPE, rule.counter_examples))
            for lang, texts in by_lang.items()
            for text in texts
        ]
        texts = [e.text for e in self.examples]
        lemma_bags = [self._lemmas(t) for t in texts]
        letter_bags = [letter_counts(t) for t in texts]
        self._lemma_space, self._letter_space = _Space(lemma_bags), _Space(letter_bags)
        self._lemmas_m = _stack([self._lemma_space.row(b) for b in lemma_bags], self._lemma_space)
        self._letters_m = _stack(
            [self._letter_space.row(b) for b in letter_bags], self._letter_space
        )
        self._navec = vectors.navec(texts)
        self._wordllama = vectors.wordllama(texts)
        self.labels = np.asarray([e.label for e in self.examples])
        self.langs = np.asarray([e.lang for e in self.examples])
        self.features = lru_cache(maxsize=4096)(self._features)
        self._learned = lru_cache(maxsize=4096)(self._learned_uncached)

    def _lemmas(self, text: str) -> Counter:
        return Counter(lemmas(text, self.vectors))

    def _features(self, text: str) -> _Features:
        return _Features(
            self._lemma_space.row(self._lemmas(text)),
            self._letter_space.row(letter_counts(text)),
            self.vectors.navec([text])[0],
            self.vectors.wordllama([text])[0],
        )

    def similarities(self, text: str, lang: str, others: list[str] = ()) -> np.ndarray:
        """Similarity of a text to every example (then to each of `others`), 0..1."""
        f = self.features(text)
        parts = [
            (self._lemmas_m @ f.lemmas.T).toarray().ravel(),
            (self._letters_m @ f.letters.T).toarray().ravel(),
            self._navec @ f.navec,
            self._wordllama @ f.wordllama,
        ]
        if others:
            extra = [self.features(t) for t in others]
            rows = [
                sp.vstack([e.lemmas for e in extra]),
                sp.vstack([e.letters for e in extra]),
                np.vstack([e.navec for e in extra]),
                np.vstack([e.wordllama for e in extra]),
            ]
            queries = (f.lemmas, f.letters, f.navec, f.wordllama)
            for n, (matrix, query) in enumerate(zip(rows, queries, strict=True)):
                more = matrix @ query.T
                more = more.toarray().ravel() if sp.issparse(more) else np.asarray(more).ravel()
                parts[n] = np.concatenate([parts[n], more])
        total, weight = np.zeros(len(parts[0]), np.float32), 0.0
        query_vectors = (1.0, 1.0, float(np.abs(f.navec).sum()), float(np.abs(f.wordllama).sum()))
        for part, w, present in zip(parts, WEIGHTS[lang], query_vectors, strict=True):
            # A model that knows none of the request's words says nothing, rather than "far".
            if w and present:
                total += w * np.clip(part, 0.0, 1.0)
                weight += w
        return total / (weight or 1.0)

    def vote(
        self,
        text: str,
        lang: str,
        allowed: set[str],
        learned: tuple[tuple[str, str], ...] = (),
    ) -> MeaningMatch | None:
        """The allowed rule the text is clearly nearest to by meaning, if any.

        Examples of rules that are not allowed for this request (its tier, a matching
        counter-pattern) count as in scope: for this request that work is support's.
        """
        settings = self.rules.meaning
        learned_examples = [self.learned_example(label, t) for label, t in learned]
        learned_examples = [e for e in learned_examples if e is not None]
        sims = self.similarities(text, lang, [e.text for e in learned_examples])
        labels = np.concatenate([self.labels, [e.label for e in learned_examples]])
        langs = np.concatenate([self.langs, [e.lang for e in learned_examples]])
        texts = [e.text for e in self.examples] + [e.text for e in learned_examples]
        same = langs == lang
        labels = np.where(np.isin(labels, list(allowed)), labels, IN_SCOPE)
        k = settings["neighbours"]

        def best(label: str) -> tuple[float, int]:
            idx = np.flatnonzero(same & (labels == label))
            if not len(idx):
                return 0.0, -1
            top = idx[np.argsort(-sims[idx])[:k]]
            return float(sims[top].mean()), int(top[0])

        in_scope, _ = best(IN_SCOPE)
        scored = [(best(rule_id), rule_id) for rule_id in sorted(allowed)]
        if not scored:
            return None
        (score, nearest), rule_id = max(scored)
        if nearest < 0 or score < settings["floor"] or score - in_scope < settings["margin"]:
            return None
        if settings["nearest"]:
            # A vote of the nearest examples of every label: a short product question
            # that happens to echo one example of a rule is outvoted by its neighbours.
            idx = np.flatnonzero(same)
            top = idx[np.argsort(-sims[idx])[: settings["nearest"]]]
            if int((labels[top] == rule_id).sum()) < settings["votes"]:
                return None
        return MeaningMatch(rule_id, texts[nearest], round(score, 3), round(in_scope, 3))

    def nearest(
        self, text: str, lang: str, rule_ids: set[str]
    ) -> tuple[str | None, str | None, float | None]:
        """Among these rules, the one with the example nearest the text: its id, the
        example and the similarity (no example in the language: the first rule alone)."""
        mask = (self.langs == lang) & np.isin(self.labels, list(rule_ids))
        if not mask.any():
            first = next((r.id for r in self.rules.rules if r.id in rule_ids), None)
            return first, None, None
        sims = self.similarities(text, lang)
        best = int(np.flatnonzero(mask)[np.argmax(sims[mask])])
        return str(self.labels[best]), self.examples[best].text, round(float(sims[best]), 3)

    def learned_example(self, label: str, text: str) -> Example | None:
        """An extra example given at call time: a rule id, a verdict or in_scope.

        A bare verdict joins the rule of that verdict whose examples the text is nearest.
        """
        return self._learned(label, text.strip())

    def _learned_uncached(self, label: str, text: str) -> Example | None:
        if not text:
            return None
        lang = language_of(text)
        if label == IN_SCOPE or self.rules.rule(label):
            return Example(label, lang, text)
        if label not in VERDICTS:
            raise ValueError(f"unknown label {label!r} of a learned example")
        candidates = [r.id for r in self.rules.rules if r.verdict == label]
        if not candidates:
            return None
        sims = self.similarities(text, lang)
        mask = (self.langs == lang) & np.isin(self.labels, candidates)
        if not mask.any():
            return Example(candidates[0], lang, text)
        return Example(str(self.labels[np.flatnonzero(mask)[np.argmax(sims[mask])]]), lang, text)


def lemmas(text: str, vectors: WordVectors) -> list[str]:
    """The words of a text as lemmas (pymorphy3) or, for Latin words, Snowball stems."""
    # Stop words stay: "наш сервер" and "сервер Битрикс24" differ by them; IDF weighs them.
    return [vectors.lemma(w) if CYRILLIC.search(w) else stem(w) for w in _WORD.findall(fold(text))]


def _stack(rows: list[sp.csr_matrix], space: _Space) -> sp.csr_matrix:
    if not rows:
        return sp.csr_matrix((0, len(space.index)), dtype=np.float32)
    return sp.vstack(rows).tocsr()


def meaning_of(rules: Rules, vectors: WordVectors) -> Meaning:
    """The rules' examples as vectors, computed once per rules file and models."""
    key = ("meaning", id(vectors))
    if key not in rules.cache:
        rules.cache[key] = Meaning(rules, vectors)
    return rules.cache[key]
