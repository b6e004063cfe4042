"""The phrase patterns of the scope rules: compiled once, matched after stemming.

Words are compared after the search analyser's stemming (`portal.kb.analysis`),
Russian ones by their coarse root, so "установить", "установка", "установите" meet;
`word*` compares letters, `=word` the exact form; stop words are compared exactly.
Operators between slots: none (next word), `...` (later, within the window), `~`
(either side, within the window).
"""

import re
from dataclasses import dataclass
from functools import lru_cache

from portal.kb.analysis import STOP_WORDS, fold, root, terms, words

_PIECE = re.compile(r"=?\w+(?:[.]\w+)*\*?")
_OPERATOR = re.compile(r"^(\.\.\.|~)(\d*)$")


@lru_cache(maxsize=100_000)
def _key(word: str) -> str | None:
    """The comparison key of a folded word: its stem, coarsened to a root for Russian."""
    found = terms(word)
    return root(found[0]) if found else None


class Text:
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
        return self.matches(Text(text))

    def matches(self, doc: Text) -> bool:
        """True if the analysed text contains the pattern."""
        spans = [self._spans(slot, doc) for slot in self.slots]
        if not all(spans):
            return False
        return any(self._chain(spans, 1, span, span) for span in spans[0])

    @staticmethod
    def _spans(slot, doc: Text) -> list[tuple[int, int]]:
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
