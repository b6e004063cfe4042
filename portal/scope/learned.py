"""The scope classifier learned from labelled requests.

A logistic regression (scikit-learn) over what search already computes of a text:
lemmas and pairs of them (TF-IDF), letter 2-5-grams inside words (TF-IDF, which
survives typos), the Russian word vectors (navec) and WordLlama embeddings. It learns
from the labelled requests the rules file names (`learning.cases`, every section but
`learning.held_out`) and from the rules' own examples and counter-examples, and gives
each verdict a probability. Trained once per rules file, labelled set and word-vector
models, on first use (about four seconds). Pure: no Flask, no database.
"""

import logging
import threading
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from portal.kb.analysis import fold
from portal.kb.vectors import WordVectors
from portal.scope.cases import load_sections
from portal.scope.meaning import IN_SCOPE, lemmas
from portal.scope.rules import Rules

log = logging.getLogger(__name__)
_lock = threading.Lock()


@dataclass(frozen=True)
class Labelled:
    """What the classifier learns from: texts and their verdicts."""

    texts: tuple[str, ...]
    verdicts: tuple[str, ...]


class LearnedClassifier:
    """A verdict with its probability for any request text, learned from labelled ones."""

    def __init__(self, labelled: Labelled, vectors: WordVectors, settings: dict):
        self.vectors = vectors
        self.settings = settings
        self._words = TfidfVectorizer(
            sublinear_tf=True, ngram_range=(1, 2), token_pattern=r"\S+", lowercase=False
        )
        self._letters = TfidfVectorizer(sublinear_tf=True, analyzer="char_wb", ngram_range=(2, 5))
        features = self._features(list(labelled.texts), fit=True)
        self._model = LogisticRegression(
            C=settings["strength"], max_iter=3000, class_weight="balanced"
        ).fit(features, list(labelled.verdicts))
        self.size = len(labelled.texts)

    def _features(self, texts: list[str], fit: bool = False) -> sp.csr_matrix:
        words = [" ".join(lemmas(text, self.vectors)) for text in texts]
        letters = [fold(text) for text in texts]
        if fit:
            parts = [self._words.fit_transform(words), self._letters.fit_transform(letters)]
        else:
            parts = [self._words.transform(words), self._letters.transform(letters)]
        dense = np.hstack([self.vectors.navec(texts), self.vectors.wordllama(texts)])
        return sp.hstack([*parts, sp.csr_matrix(dense)]).tocsr()

    def probabilities(self, text: str) -> dict[str, float]:
        """Each verdict's probability for the text."""
        row = self._model.predict_proba(self._features([text]))[0]
        return {str(v): float(p) for v, p in zip(self._model.classes_, row, strict=True)}

    def verdict(self, probabilities: dict[str, float]) -> str:
        """The verdict whose probability reaches its floor (`learning:`), else in scope."""
        out, consultation = (probabilities.get(v, 0.0) for v in ("out_of_scope", "consultation"))
        if out >= self.settings["out_of_scope"] and out > consultation:
            return "out_of_scope"
        if consultation >= self.settings["consultation"] and consultation > out:
            return "consultation"
        return IN_SCOPE

    def sure(self, probabilities: dict[str, float], verdict: str) -> bool:
        """Whether the verdict is probable enough to stand against a rule's `unless`."""
        return probabilities.get(verdict, 0.0) >= self.settings["sure"]

    def overrules(self, probabilities: dict[str, float], verdict: str) -> bool:
        """Whether a phrase pattern's verdict is so unlikely that the classifier decides."""
        return probabilities.get(verdict, 0.0) < self.settings["overrule"]


def labelled_requests(rules: Rules) -> Labelled:
    """The rules' examples and the labelled requests not held out, as learned.

    Left out: a rule's examples when it does not concern the default tier, and requests
    labelled for another tier or with a coupon; their verdict depends on more than their
    words, and the rules apply those conditions. Counter-examples are in scope for all.
    """
    texts, verdicts = [], []
    for rule in rules.rules:
        learned = [(IN_SCOPE, rule.counter_examples)]
        if rule.applies_to(rules.default_tier):
            learned.append((rule.verdict, rule.examples))
        for verdict, by_lang in learned:
            for examples in by_lang.values():
                texts += examples
                verdicts += [verdict] * len(examples)
    held_out = set(rules.learning["held_out"])
    sections = load_sections(rules.cases) if rules.cases else {}
    for name, cases in sections.items():
        if name in held_out:
            continue
        for case in cases:
            if case.get("special") or rules.tier(case.get("tier")) != rules.default_tier:
                continue
            texts.append(case["text"])
            verdicts.append(case["expected"])
    return Labelled(tuple(texts), tuple(verdicts))


# The version of a classifier given by `with_classifier`: kept whatever the file becomes.
_PINNED = "pinned"


def _version(rules: Rules) -> int | None:
    try:
        return rules.cases.stat().st_mtime_ns
    except OSError:
        return None


def _key(vectors: WordVectors) -> tuple:
    return ("learned", id(vectors))


def with_classifier(rules: Rules, vectors: WordVectors, learned: LearnedClassifier) -> Rules:
    """A copy of the rules that uses this classifier with these models (to measure one
    learned from part of the labelled requests; it is never relearned from the whole
    file, even if the file changes meanwhile)."""
    key = _key(vectors)
    copy = replace(rules, cache={k: v for k, v in rules.cache.items() if k != key})
    copy.cache[key] = (_PINNED, learned)
    return copy


def learned_of(rules: Rules, vectors: WordVectors) -> LearnedClassifier | None:
    """The classifier of these rules and models, relearned when the labelled set changes.

    None when the rules name no labelled requests or they cannot be read (the phrase
    patterns and examples then decide alone; the problem is logged).
    """
    if rules.cases is None:
        return None
    version = _version(rules)
    key = _key(vectors)
    with _lock:
        cached = rules.cache.get(key)
        if cached is None or cached[0] not in (version, _PINNED):
            try:
                labelled = labelled_requests(rules)
                learned = LearnedClassifier(labelled, vectors, rules.learning)
            except (OSError, ValueError) as exc:
                log.error("scope: cannot learn from %s: %s", rules.cases, exc)
                learned = None
            rules.cache[key] = cached = (version, learned)
    return cached[1]
