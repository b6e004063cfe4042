"""Result snippets: the passage of an article that best matches the query,
as plain pieces the template marks up (so nothing from the text is trusted as HTML)."""

from bisect import bisect_left
from dataclasses import dataclass

from portal.kb.analysis import WORD, fold, stem

WINDOW = 220


@dataclass(frozen=True)
class Snippet:
    """Text pieces; odd-numbered ones matched the query."""

    pieces: tuple[str, ...]
    leading: bool = False
    trailing: bool = False

    @property
    def text(self) -> str:
        core = "".join(self.pieces)
        return ("…" if self.leading else "") + core + ("…" if self.trailing else "")

    def parts(self):
        """(text, matched) pairs for the template."""
        return [(p, i % 2 == 1) for i, p in enumerate(self.pieces)]


@dataclass(frozen=True)
class Passage:
    """A text split into words once, so that every query marks it without re-reading it."""

    text: str
    spans: tuple[tuple[int, int], ...]
    folded: tuple[str, ...]
    stems: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> "Passage":
        found = list(WORD.finditer(text))
        folded = tuple(fold(m.group()) for m in found)
        return cls(text, tuple(m.span() for m in found), folded, tuple(map(stem, folded)))


def make_snippet(
    text: "str | Passage", stems: frozenset[str], prefix: str | None = None
) -> Snippet:
    """Choose the window of `text` with most query words and mark them."""
    passage = text if isinstance(text, Passage) else Passage.of(text)
    text = passage.text
    matches = [
        span
        for span, word, word_stem in zip(passage.spans, passage.folded, passage.stems, strict=True)
        if word_stem in stems or (prefix and word.startswith(prefix))
    ]
    if not text:
        return Snippet(("",))
    if not matches:
        cut = text[:WINDOW]
        end = cut.rfind(" ") if len(text) > WINDOW and " " in cut else len(cut)
        return Snippet((text[:end],), trailing=len(text) > end)
    starts = [s for s, _ in matches]
    best_start, best_count = starts[0], 0
    for i, start in enumerate(starts):
        # Matches are in text order: those in the window end where the window does.
        count = bisect_left(starts, start + WINDOW, lo=i) - i
        if count > best_count:
            best_start, best_count = start, count
    start = max(0, best_start - 40)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < best_start else start
    end = min(len(text), start + WINDOW)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    pieces: list[str] = []
    cursor = start
    for s, e in matches:
        if s < start or e > end:
            continue
        pieces.extend([text[cursor:s], text[s:e]])
        cursor = e
    pieces.append(text[cursor:end])
    return Snippet(tuple(pieces), leading=start > 0, trailing=end < len(text))
