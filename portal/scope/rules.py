"""The scope rules file: loaded, checked and compiled once per version of the file.

A rule has phrase patterns, counter-patterns ("unless") that cancel it, the tiers it
applies to, whether a special request (coupon) exempts it, and example requests with
in-scope counter-examples that the meaning layer (`portal.scope.meaning`) compares with.
"""

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from portal.scope.patterns import Pattern, Text
from portal.sla import TIERS

VERDICTS = ("in_scope", "out_of_scope", "consultation")
RULE_VERDICTS = ("out_of_scope", "consultation")
LANGS = ("ru", "en")
RULES_PATH = Path(__file__).resolve().parent.parent / "scope_rules.yml"
_RULE_KEYS = {
    "id",
    "verdict",
    "patterns",
    "unless",
    "only_tiers",
    "except_tiers",
    "unless_special",
    "window",
    "reason",
    "links",
    "examples",
    "counter_examples",
}
# How clearly a request must be nearer a rule's examples than the in-scope ones; with
# `nearest` > 0, at least `votes` of that many nearest examples must also be the rule's.
MEANING_DEFAULTS = {"margin": 0.1, "floor": 0.3, "neighbours": 2, "nearest": 0, "votes": 0}
# The classifier learned from labelled requests (`portal.scope.learned`): the file of
# labelled requests (relative to the rules file; empty: none), the sections kept out of
# what it learns (to measure it on), the probability a verdict needs, the probability at
# which it stands even where a rule's `unless` cancels that rule, the probability of its
# own verdict under which a phrase pattern is overruled, and its regularisation.
LEARNING_DEFAULTS = {
    "cases": "",
    "held_out": [],
    "out_of_scope": 0.8,
    "consultation": 0.5,
    "sure": 0.9,
    "overrule": 0.05,
    "strength": 3.0,
}


class RulesError(ValueError):
    """A scope rules file the classifier cannot use; the message names the rule."""


@dataclass(frozen=True)
class Rule:
    """A scope rule from the YAML file, its patterns compiled."""

    id: str
    verdict: str
    patterns: tuple[Pattern, ...]
    unless: tuple[Pattern, ...]
    reason: dict
    links: dict
    only_tiers: frozenset | None = None
    except_tiers: frozenset = frozenset()
    unless_special: bool = False
    examples: dict = field(default_factory=dict)  # language -> tuple of request texts
    counter_examples: dict = field(default_factory=dict)  # ... that are in scope

    def applies_to(self, tier: str) -> bool:
        """Whether the rule concerns a customer of this tier."""
        return tier in (self.only_tiers or {tier}) and tier not in self.except_tiers

    def cancelled(self, doc: Text) -> bool:
        """A counter-pattern ("unless") matches the text."""
        return any(p.matches(doc) for p in self.unless)

    def matches(self, doc: Text) -> bool:
        """A pattern matches and no counter-pattern cancels it."""
        return any(p.matches(doc) for p in self.patterns) and not self.cancelled(doc)


@dataclass(frozen=True)
class Rules:
    """The loaded rules file."""

    rules: tuple[Rule, ...]
    tiers: tuple[str, ...]
    default_tier: str
    messages: dict = field(default_factory=dict)  # in_scope / special texts per language
    meaning: dict = field(default_factory=lambda: dict(MEANING_DEFAULTS))
    learning: dict = field(default_factory=lambda: dict(LEARNING_DEFAULTS))
    cases: Path | None = None  # the labelled requests the classifier learns from
    # Example vectors per word-vector models, computed on first use (see meaning.py).
    cache: dict = field(default_factory=dict, compare=False, repr=False)

    def tier(self, tier: str | None) -> str:
        """Normalise a tier name ("Non-commercial" -> "noncommercial"); ValueError if unknown."""
        if tier is None or not str(tier).strip():
            return self.default_tier
        name = re.sub(r"[\s_-]+", "", str(tier).lower())
        if name not in self.tiers:
            raise ValueError(f"unknown tier {tier!r}; expected one of {', '.join(self.tiers)}")
        return name

    def rule(self, rule_id: str) -> Rule | None:
        """The rule with this id, if any."""
        return next((r for r in self.rules if r.id == rule_id), None)


def _per_lang(value, what: str, where: str) -> dict:
    if not isinstance(value, dict) or not all(value.get(lang) for lang in LANGS):
        raise RulesError(f"{where}: {what} needs ru and en")
    return value


def _texts(value, what: str, where: str) -> dict:
    """Example texts per language: {ru: [...], en: [...]}, either may be missing."""
    value = value or {}
    if not isinstance(value, dict) or set(value) - set(LANGS):
        raise RulesError(f"{where}: {what} must be a mapping of ru and en lists")
    found = {}
    for lang in LANGS:
        texts = value.get(lang) or []
        if not isinstance(texts, list) or not all(isinstance(t, str) and t.strip() for t in texts):
            raise RulesError(f"{where}: {what} ({lang}) must be a list of texts")
        found[lang] = tuple(t.strip() for t in texts)
    return found


def _compile(by_lang, window: int, words_: dict, where: str) -> tuple[Pattern, ...]:
    compiled = []
    for lang, sources in (by_lang or {}).items():
        if lang not in LANGS:
            raise RulesError(f"{where}: unknown language {lang!r}")
        lists = {name: v if isinstance(v, str) else v[lang] for name, v in words_.items()}
        for source in sources or []:
            try:
                compiled.append(Pattern.parse(source, window, lists))
            except ValueError as exc:
                raise RulesError(f"{where}: pattern {source!r}: {exc}") from None
    return tuple(compiled)


def _rule(raw: dict, data: dict, window: int) -> Rule:
    rule_id = raw.get("id") or "?"
    where = f"rule {rule_id}"
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise RulesError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    if raw.get("verdict") not in RULE_VERDICTS:
        raise RulesError(f"{where}: verdict must be one of {', '.join(RULE_VERDICTS)}")
    window = int(raw.get("window", window))
    words_, signals = data.get("words") or {}, data.get("signals") or {}
    unless = []
    for name in raw.get("unless") or []:
        if name not in signals:
            raise RulesError(f"{where}: unless names an unknown signal {name!r}")
        unless.extend(_compile(signals[name], window, words_, f"signal {name}"))
    for key in ("only_tiers", "except_tiers"):
        bad = set(raw.get(key) or []) - set(data["tiers"])
        if bad:
            raise RulesError(f"{where}: {key} has unknown tiers {', '.join(sorted(bad))}")
    links = raw.get("links") or {}
    return Rule(
        id=rule_id,
        verdict=raw["verdict"],
        patterns=_compile(_per_lang(raw.get("patterns"), "patterns", where), window, words_, where),
        unless=tuple(unless),
        reason=_per_lang(raw.get("reason"), "reason", where),
        links={lang: tuple(links.get(lang) or ()) for lang in LANGS},
        only_tiers=frozenset(raw["only_tiers"]) if raw.get("only_tiers") else None,
        except_tiers=frozenset(raw.get("except_tiers") or ()),
        unless_special=bool(raw.get("unless_special")),
        examples=_texts(raw.get("examples"), "examples", where),
        counter_examples=_texts(raw.get("counter_examples"), "counter_examples", where),
    )


def _meaning_settings(raw) -> dict:
    raw = raw or {}
    if not isinstance(raw, dict) or set(raw) - set(MEANING_DEFAULTS):
        raise RulesError(f"meaning: expected only {', '.join(MEANING_DEFAULTS)}")
    try:
        settings = {k: type(v)(raw.get(k, v)) for k, v in MEANING_DEFAULTS.items()}
    except (TypeError, ValueError):
        raise RulesError(
            "meaning: margin and floor are numbers, neighbours, nearest and votes counts"
        ) from None
    if settings["neighbours"] < 1:
        raise RulesError("meaning: neighbours must be at least 1")
    if not 0 <= settings["votes"] <= settings["nearest"]:
        raise RulesError("meaning: votes must be between 0 and nearest")
    return settings


def _learning_settings(raw, path: Path) -> tuple[dict, Path | None]:
    raw = raw or {}
    if not isinstance(raw, dict) or set(raw) - set(LEARNING_DEFAULTS):
        raise RulesError(f"learning: expected only {', '.join(LEARNING_DEFAULTS)}")
    settings = {**LEARNING_DEFAULTS, **raw}
    held_out = settings["held_out"]
    if not isinstance(held_out, list) or not all(isinstance(s, str) for s in held_out):
        raise RulesError("learning: held_out is a list of section names")
    try:
        for key in ("out_of_scope", "consultation", "sure", "overrule", "strength"):
            settings[key] = float(settings[key])
    except (TypeError, ValueError):
        raise RulesError(
            "learning: out_of_scope, consultation, sure, overrule and strength are numbers"
        ) from None
    if not all(0 < settings[k] <= 1 for k in ("out_of_scope", "consultation", "sure")):
        raise RulesError("learning: out_of_scope, consultation and sure are probabilities above 0")
    if not 0 <= settings["overrule"] < 1 or settings["strength"] <= 0:
        raise RulesError("learning: overrule is a probability below 1, strength above 0")
    if not settings["cases"]:
        return settings, None
    cases = (path.parent / str(settings["cases"])).resolve()
    if not cases.is_file():
        raise RulesError(f"learning: no file of labelled requests at {cases}")
    return settings, cases


@lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int) -> Rules:
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise RulesError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise RulesError(f"{path}: expected a mapping with rules, tiers and messages")
    data.setdefault("tiers", list(TIERS))
    for name, value in (data.get("words") or {}).items():
        if not isinstance(value, str):
            _per_lang(value, f"word list {name}", "(words)")
    window = int(data.get("window", 6))
    rules = tuple(_rule(raw, data, window) for raw in data.get("rules") or [])
    ids = [r.id for r in rules]
    if len(ids) != len(set(ids)):
        raise RulesError("rule ids must be unique")
    default_tier = data.get("default_tier", "commercial")
    if default_tier not in data["tiers"]:
        raise RulesError(f"default_tier {default_tier!r} is not among the tiers")
    messages = {k: _per_lang(data.get(k), k, "top level") for k in ("in_scope", "special")}
    meaning = _meaning_settings(data.get("meaning"))
    learning, cases = _learning_settings(data.get("learning"), path)
    return Rules(rules, tuple(data["tiers"]), default_tier, messages, meaning, learning, cases)


def load_rules(path: Path | None = None) -> Rules:
    """The scope rules (default `portal/scope_rules.yml`), reloaded when the file changes."""
    path = Path(path or RULES_PATH).resolve()
    return _load(path, path.stat().st_mtime_ns)
