"""Scope of support: is a draft request support's work, a consultation, or work it does not do.

The decisions live in `scope_rules.yml` (its header documents the pattern syntax).
A rule has phrase patterns, counter-patterns ("unless") that cancel it, the tiers it
applies to, whether a special request (coupon) exempts it, and example requests; the
first rule whose patterns match and are not cancelled decides (`patterns`, `rules`).
A classifier learned from labelled requests (`learned`, `cases`) decides what no pattern
catches, and overrules a pattern it finds very unlikely; what it keeps in scope is still
compared by meaning with the rules' examples and the in-scope counter-examples
(`meaning`), and gets a rule's verdict only when clearly nearer to it (`classifier`).
`evaluation` measures it all on labelled requests.
"""

from portal.scope.cases import DEFAULT_CASES, load_cases, load_sections
from portal.scope.classifier import ScopeResult, classify
from portal.scope.evaluation import Evaluation, evaluate
from portal.scope.learned import (
    Labelled,
    LearnedClassifier,
    labelled_requests,
    learned_of,
    with_classifier,
)
from portal.scope.meaning import IN_SCOPE, Meaning, MeaningMatch, meaning_of
from portal.scope.patterns import Pattern, Text
from portal.scope.rules import (
    LANGS,
    RULE_VERDICTS,
    RULES_PATH,
    VERDICTS,
    Rule,
    Rules,
    RulesError,
    load_rules,
)

__all__ = [
    "DEFAULT_CASES",
    "IN_SCOPE",
    "Labelled",
    "LearnedClassifier",
    "LANGS",
    "RULES_PATH",
    "RULE_VERDICTS",
    "VERDICTS",
    "Evaluation",
    "Meaning",
    "MeaningMatch",
    "Pattern",
    "Rule",
    "Rules",
    "RulesError",
    "ScopeResult",
    "Text",
    "classify",
    "evaluate",
    "labelled_requests",
    "learned_of",
    "load_cases",
    "load_rules",
    "load_sections",
    "meaning_of",
    "with_classifier",
]
