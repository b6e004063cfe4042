"""The verdict on a draft request: rule patterns, the classifier learned from labelled
requests, then the meaning of the rules' examples."""

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from portal.kb.analysis import language_of
from portal.kb.vectors import WordVectors, word_vectors
from portal.scope.learned import learned_of
from portal.scope.meaning import meaning_of
from portal.scope.patterns import Text
from portal.scope.rules import LANGS, Rule, Rules, load_rules


@dataclass(frozen=True)
class ScopeResult:
    """The verdict on one draft request, with the reason and help links to show.

    `example` is the rule's example request the text was matched to by meaning (None
    when a phrase pattern decided), `similarity` how near it came (0..1).
    """

    verdict: str
    rule: str | None
    reason: str
    links: tuple[dict, ...] = ()
    lang: str = "ru"
    example: str | None = None
    similarity: float | None = None

    def as_dict(self) -> dict:
        """JSON-ready form."""
        return {**asdict(self), "links": [dict(link) for link in self.links]}


def _refusal(rule: Rule, lang: str, example=None, similarity=None) -> ScopeResult:
    return ScopeResult(
        rule.verdict, rule.id, rule.reason[lang], rule.links[lang], lang, example, similarity
    )


def classify(
    text: str,
    lang: str | None = None,
    tier: str | None = None,
    special: bool = False,
    rules: Rules | None = None,
    learned: Iterable[tuple[str, str]] = (),
    vectors: WordVectors | None = None,
) -> ScopeResult:
    """Classify a draft request as in_scope, out_of_scope or consultation.

    `learned` adds example requests at call time, as (label, text) pairs where the label
    is a rule id, a verdict or "in_scope"; `vectors` are the word-vector models (the
    process's shared ones by default).
    """
    rules = rules or load_rules()
    lang = lang or language_of(text)
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected ru or en")
    tier = rules.tier(tier)
    doc = Text(text)
    vectors = vectors or word_vectors()
    learned_classifier = learned_of(rules, vectors) if doc.words else None
    odds = learned_classifier.probabilities(text) if learned_classifier else {}

    def overruled(rule: Rule) -> bool:
        # The classifier learned the default tier's verdicts; a tier's own rule stands.
        return (
            bool(odds)
            and rule.applies_to(rules.default_tier)
            and learned_classifier.overrules(odds, rule.verdict)
        )

    exempted = False
    for rule in rules.rules:
        if not rule.applies_to(tier) or not rule.matches(doc):
            continue
        if special and rule.unless_special:
            exempted = True
            continue
        if overruled(rule):
            continue
        return _refusal(rule, lang)
    meaning = meaning_of(rules, vectors)
    # Work a coupon covers, named by a pattern, is not taken up again by the classifier.
    if odds and not exempted and (verdict := learned_classifier.verdict(odds)) != "in_scope":
        # The rule whose examples are nearest explains the verdict to the customer.
        candidates = {
            r.id
            for r in rules.rules
            if r.verdict == verdict
            and r.applies_to(tier)
            and (learned_classifier.sure(odds, verdict) or not r.cancelled(doc))
        }
        rule_id, example, similarity = meaning.nearest(text, language_of(text), candidates)
        if rule_id:
            rule = rules.rule(rule_id)
            # A special request is served at its own level: advice the classifier would
            # send to consultations (database tuning, performance) is what a coupon buys.
            if not (special and (rule.unless_special or verdict == "consultation")):
                return _refusal(rule, lang, example, similarity)
            exempted = True
    # A rule the coupon exempts still takes part, so that its work is named as covered.
    allowed = {r.id for r in rules.rules if r.applies_to(tier) and not r.cancelled(doc)}
    learned = tuple((str(label), str(example)) for label, example in learned)
    has_examples = learned or any(any(r.examples.values()) for r in rules.rules)
    if not exempted and doc.words and allowed and has_examples:
        match = meaning.vote(text, language_of(text), allowed, learned)
        if match and not overruled(rules.rule(match.rule)):
            rule = rules.rule(match.rule)
            if not (special and rule.unless_special):
                return _refusal(rule, lang, match.example, match.score)
            exempted = True
    message = rules.messages["special" if exempted else "in_scope"][lang]
    return ScopeResult("in_scope", None, message, (), lang)
