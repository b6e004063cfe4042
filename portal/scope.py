"""Scope of support: is a draft request support's work, a consultation, or work it does not do.

The decisions live in `scope_rules.yml` (its header documents the pattern syntax);
this module loads and applies them. A rule has phrase patterns, counter-patterns
("unless") that cancel it, the tiers it applies to and whether a special request
(coupon) exempts it; the first rule that matches and is not cancelled decides.

Words are compared after the search analyser's stemming (`portal.kb.analysis`),
Russian ones by their coarse root, so "установить", "установка", "установите" meet;
`word*` compares letters, `=word` the exact form; stop words are compared exactly.
Operators between slots: none (next word), `...` (later, within the window), `~`
(either side, within the window).
"""

import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from portal.kb.analysis import STOP_WORDS, fold, root, terms, words

VERDICTS = ("in_scope", "out_of_scope", "consultation")
RULE_VERDICTS = ("out_of_scope", "consultation")
LANGS = ("ru", "en")
RULES_PATH = Path(__file__).with_name("scope_rules.yml")
DEFAULT_CASES = Path(__file__).resolve().parent.parent / "tests" / "data" / "scope_cases.yml"

_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)
_PIECE = re.compile(r"=?\w+(?:[.]\w+)*\*?")
_OPERATOR = re.compile(r"^(\.\.\.|~)(\d*)$")
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
}


class RulesError(ValueError):
    """A scope rules file the classifier cannot use; the message names the rule."""


def detect_lang(text: str) -> str:
    """Return "ru" if Cyrillic letters dominate the text, else "en"."""
    cyrillic = len(_CYRILLIC.findall(text))
    return "ru" if cyrillic and cyrillic >= len(_LATIN.findall(text)) else "en"


@lru_cache(maxsize=100_000)
def _key(word: str) -> str | None:
    """The comparison key of a folded word: its stem, coarsened to a root for Russian."""
    found = terms(word)
    return root(found[0]) if found else None


class _Text:
    """A request analysed once: its words, their keys and where each occurs."""

    def __init__(self, text: str):
        self.words = words(text)
        self.keys = [_key(word) for word in self.words]
        self.by_word: dict[str, list[int]] = {}
        self.by_key: dict[str | None, list[int]] = {}
        for i, (word, key) in enumerate(zip(self.words, self.keys, strict=True)):
            self.by_word.setdefault(word, []).append(i)
            self.by_key.setdefault(key, []).append(i)

    def at(self, matcher: tuple[str, str], i: int) -> bool:
        kind, value = matcher
        if i >= len(self.words):
            return False
        if kind == "prefix":
            return self.words[i].startswith(value)
        return (self.words if kind == "word" else self.keys)[i] == value

    def starts(self, matcher: tuple[str, str]) -> list[int]:
        kind, value = matcher
        if kind == "prefix":
            return [i for i, w in enumerate(self.words) if w.startswith(value)]
        return (self.by_word if kind == "word" else self.by_key).get(value, [])


def _matcher(piece: str) -> tuple[str, str]:
    if piece.startswith("="):
        return ("word", piece[1:])
    if piece.endswith("*"):
        return ("prefix", piece[:-1])
    if piece in STOP_WORDS or len(piece) < 2 or not _key(piece):
        return ("word", piece)
    return ("key", _key(piece))


def _expand(token: str, lists: dict) -> list[str]:
    alternatives = []
    for alt in token.split("|"):
        if alt.startswith("@") and alt[1:] not in lists:
            raise ValueError(f"unknown word list {alt!r}")
        alternatives += str(lists[alt[1:]]).split("|") if alt.startswith("@") else [alt]
    return alternatives


@dataclass(frozen=True)
class Pattern:
    """One compiled phrase pattern: slots of alternatives joined by operators."""

    source: str
    slots: tuple[tuple[tuple[tuple[str, str], ...], ...], ...]
    joins: tuple[tuple[str, int], ...]  # before slot 1, 2, ...: ("next"|"after"|"near", window)

    @classmethod
    def parse(cls, source: str, window: int, lists: dict | None = None) -> "Pattern":
        """Compile a pattern string, `@name` taken from `lists`; ValueError on bad syntax."""
        slots, joins, pending = [], [], ("next", 1)
        tokens = str(source).split()
        for n, token in enumerate(tokens):
            op = _OPERATOR.match(token)
            if op:
                if n == 0 or n == len(tokens) - 1 or pending != ("next", 1):
                    raise ValueError(f"operator {token!r} must stand between two words")
                pending = ("after" if op[1] == "..." else "near", int(op[2] or window))
                continue
            alternatives = []
            for alt in _expand(token, lists or {}):
                pieces = _PIECE.findall(fold(alt))
                if not pieces:
                    raise ValueError(f"empty alternative in {token!r}")
                alternatives.append(tuple(_matcher(p) for p in pieces))
            if slots:
                joins.append(pending)
            slots.append(tuple(alternatives))
            pending = ("next", 1)
        if not slots:
            raise ValueError("empty pattern")
        return cls(str(source), tuple(slots), tuple(joins))

    def found_in(self, text: str) -> bool:
        """True if the text contains the pattern (analyses the text first)."""
        return self.matches(_Text(text))

    def matches(self, doc: _Text) -> bool:
        """True if the analysed text contains the pattern."""
        spans = [self._spans(slot, doc) for slot in self.slots]
        if not all(spans):
            return False
        return any(self._chain(spans, 1, span, span) for span in spans[0])

    @staticmethod
    def _spans(slot, doc: _Text) -> list[tuple[int, int]]:
        found = []
        for alt in slot:
            for i in doc.starts(alt[0]):
                if all(doc.at(m, i + k) for k, m in enumerate(alt[1:], 1)):
                    found.append((i, i + len(alt) - 1))
        return found

    def _chain(self, spans, n: int, prev: tuple[int, int], group: tuple[int, int]) -> bool:
        """Can slots n.. follow `prev`; `group` is the stretch the slots so far cover."""
        if n == len(spans):
            return True
        kind, window = self.joins[n - 1]
        for start, end in spans[n]:
            if kind == "next":
                ok = start == prev[1] + 1
            elif kind == "after":
                ok = prev[1] < start <= prev[1] + window
            else:  # near: within the window of the words matched so far, not on the last one
                ok = group[0] - window <= start and end <= group[1] + window
                ok = ok and (end < prev[0] or start > prev[1])
            if ok and self._chain(
                spans, n + 1, (start, end), (min(group[0], start), max(group[1], end))
            ):
                return True
        return False


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

    def applies_to(self, tier: str) -> bool:
        """Whether the rule concerns a customer of this tier."""
        return tier in (self.only_tiers or {tier}) and tier not in self.except_tiers

    def matches(self, doc: _Text) -> bool:
        """A pattern matches and no counter-pattern cancels it."""
        return any(p.matches(doc) for p in self.patterns) and not any(
            p.matches(doc) for p in self.unless
        )


@dataclass(frozen=True)
class Rules:
    """The loaded rules file."""

    rules: tuple[Rule, ...]
    tiers: tuple[str, ...]
    default_tier: str
    messages: dict = field(default_factory=dict)  # in_scope / special texts per language

    def tier(self, tier: str | None) -> str:
        """Normalise a tier name ("Non-commercial" -> "noncommercial"); ValueError if unknown."""
        if tier is None or not str(tier).strip():
            return self.default_tier
        name = re.sub(r"[\s_-]+", "", str(tier).lower())
        if name not in self.tiers:
            raise ValueError(f"unknown tier {tier!r}; expected one of {', '.join(self.tiers)}")
        return name


def _per_lang(value, what: str, where: str) -> dict:
    if not isinstance(value, dict) or not all(value.get(lang) for lang in LANGS):
        raise RulesError(f"{where}: {what} needs ru and en")
    return value


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
    )


@lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int) -> Rules:
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except yaml.YAMLError as exc:
        raise RulesError(f"{path}: {exc}") from None
    data.setdefault("tiers", ["partner", "commercial", "vip", "noncommercial"])
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
    return Rules(rules, tuple(data["tiers"]), default_tier, messages)


def load_rules(path: Path | None = None) -> Rules:
    """The scope rules (default `portal/scope_rules.yml`), reloaded when the file changes."""
    path = Path(path or RULES_PATH).resolve()
    return _load(path, path.stat().st_mtime_ns)


@dataclass(frozen=True)
class ScopeResult:
    """The verdict on one draft request, with the reason and help links to show."""

    verdict: str
    rule: str | None
    reason: str
    links: tuple[dict, ...] = ()
    lang: str = "ru"

    def as_dict(self) -> dict:
        """JSON-ready form."""
        return {**asdict(self), "links": [dict(link) for link in self.links]}


def classify(
    text: str,
    lang: str | None = None,
    tier: str | None = None,
    special: bool = False,
    rules: Rules | None = None,
) -> ScopeResult:
    """Classify a draft request as in_scope, out_of_scope or consultation."""
    rules = rules or load_rules()
    lang = lang or detect_lang(text)
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected ru or en")
    tier = rules.tier(tier)
    doc = _Text(text)
    exempted = False
    for rule in rules.rules:
        if not rule.applies_to(tier) or not rule.matches(doc):
            continue
        if special and rule.unless_special:
            exempted = True
            continue
        return ScopeResult(rule.verdict, rule.id, rule.reason[lang], rule.links[lang], lang)
    message = rules.messages["special" if exempted else "in_scope"][lang]
    return ScopeResult("in_scope", None, message, (), lang)


@dataclass
class Evaluation:
    """How the classifier does on labelled cases: confusion matrix and figures."""

    matrix: dict[str, dict[str, int]]  # expected -> got -> count
    misclassified: list[dict]

    @property
    def total(self) -> int:
        return sum(sum(row.values()) for row in self.matrix.values())

    @property
    def correct(self) -> int:
        return sum(self.matrix[v][v] for v in VERDICTS)

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.total if self.total else None

    def precision(self, verdict: str) -> float | None:
        """Share of cases given `verdict` that expected it (None if none were given it)."""
        given = sum(self.matrix[e][verdict] for e in VERDICTS)
        return self.matrix[verdict][verdict] / given if given else None

    def recall(self, verdict: str) -> float | None:
        """Share of cases expecting `verdict` that got it (None if none expected it)."""
        expected = sum(self.matrix[verdict].values())
        return self.matrix[verdict][verdict] / expected if expected else None

    def table(self) -> str:
        """A printable confusion matrix, the figures and the misclassified cases."""

        def fig(value):
            return "n/a" if value is None else f"{value:.3f}"

        width = max(map(len, VERDICTS)) + 2
        lines = ["expected \\ got".ljust(width) + "".join(v.rjust(width) for v in VERDICTS)]
        for e in VERDICTS:
            lines.append(
                e.ljust(width) + "".join(str(self.matrix[e][g]).rjust(width) for g in VERDICTS)
            )
        lines += ["", f"accuracy {fig(self.accuracy)} ({self.correct}/{self.total})"]
        for v in RULE_VERDICTS:
            lines.append(f"{v}: precision {fig(self.precision(v))}, recall {fig(self.recall(v))}")
        if self.misclassified:
            lines += ["", "misclassified:"]
            for m in self.misclassified:
                who = m.get("tier") or "default"
                who += ", special" if m.get("special") else ""
                lines.append(
                    f"  [{who}] {m['text']!r}: expected {m['expected']}, "
                    f"got {m['got']} ({m['rule'] or 'no rule'})"
                )
        return "\n".join(lines)


def evaluate(cases: list[dict], rules: Rules | None = None) -> Evaluation:
    """Classify every labelled case and count the outcomes."""
    rules = rules or load_rules()
    matrix = {e: dict.fromkeys(VERDICTS, 0) for e in VERDICTS}
    wrong = []
    for case in cases:
        result = classify(
            case["text"], case.get("lang"), case.get("tier"), bool(case.get("special")), rules
        )
        matrix[case["expected"]][result.verdict] += 1
        if result.verdict != case["expected"]:
            wrong.append({**case, "got": result.verdict, "rule": result.rule})
    return Evaluation(matrix, wrong)


def load_cases(path: Path | str | None = None, section: str | None = None) -> list[dict]:
    """Labelled cases from a YAML file: a list, or a mapping of sections (None: all of them)."""
    path = Path(path or DEFAULT_CASES)
    data = yaml.safe_load(path.read_text("utf-8")) or []
    if isinstance(data, dict):
        if section is None:
            data = [case for part in data.values() for case in part or []]
        elif section in data:
            data = data[section] or []
        else:
            raise ValueError(f"{path}: no section {section!r}")
    for n, case in enumerate(data, 1):
        if not isinstance(case, dict) or not isinstance(case.get("text"), str):
            raise ValueError(f"{path}: case {n} needs a text")
        if case.get("expected") not in VERDICTS:
            raise ValueError(f"{path}: case {n} expects one of {', '.join(VERDICTS)}")
    return data
