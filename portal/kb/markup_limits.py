"""Python-Markdown with bounded work, so that hostile Markdown renders in linear time.

Python-Markdown scans forward from every `[` for its `]`, from every `](` for its `)`,
and from every `<a` for the `>` of a start tag. Text that never closes (`[[[[…`,
`[](<[](<…`, `<a <a <a…`) makes each of those scans run to the end of the text:
quadratic time, minutes for a 50,000-character message. Here every such scan draws on
one allowance per document, a multiple of its length; a scan that the allowance can no
longer pay for is not made and its characters stay plain text. Ordinary Markdown spends
a small fraction of the allowance, so its HTML is exactly what Python-Markdown makes.
Lists and blockquotes nested deeper than anyone writes are kept as text too, instead of
recursing until Python's stack runs out.
"""

import re

from markdown import Markdown
from markdown.blockprocessors import BlockProcessor
from markdown.extensions import Extension
from markdown.htmlparser import HTMLExtractor, htmlparser
from markdown.inlinepatterns import (
    IMAGE_LINK_RE,
    IMAGE_REFERENCE_RE,
    LINK_RE,
    REFERENCE_RE,
    ImageInlineProcessor,
    ImageReferenceInlineProcessor,
    LinkInlineProcessor,
    ReferenceInlineProcessor,
    ShortImageReferenceInlineProcessor,
    ShortReferenceInlineProcessor,
)
from markdown.preprocessors import HtmlBlockPreprocessor

# Characters each kind of scan may look at, per character of the document, plus a floor
# for short documents. The knowledge base's articles spend at most 0.6 per character;
# `"[" * 50_000` would spend 75,000 per character without the limit.
SCAN_PER_CHAR = 8
SCAN_FLOOR = 50_000
# Lists and blockquotes inside one another: real text stays under 10 levels; each
# level costs Python-Markdown a few stack frames and a pass over the block.
MAX_NESTING = 40

_BRACKET = re.compile(r"[\[\]]")
_QUOTES = ("'", '"')


class ScanAllowance:
    """How many more characters the scans of one document may look at."""

    def __init__(self, text_length: int):
        self.left = SCAN_PER_CHAR * text_length + SCAN_FLOOR
        # The text and position after which the last search found no `]`: a run of `[`
        # then costs one search, not one per bracket.
        self.no_close: tuple[str | None, int] = (None, 0)

    def spend(self, chars: int) -> None:
        """Count characters a scan looked at."""
        self.left = max(0, self.left - chars)


class _BoundedBrackets:
    """`getText` and `getLink` of Python-Markdown's link processors, paid from an allowance."""

    allowance: ScanAllowance

    def getText(self, data: str, index: int) -> tuple[str, int, bool]:  # noqa: N802 - Markdown's API name
        """The text up to the `]` closing the `[` before `index`, as Python-Markdown finds it."""
        seen, after = self.allowance.no_close
        if seen is data and index >= after:
            return "", len(data), False
        stop = min(len(data), index + self.allowance.left)
        if data.find("]", index, stop) == -1:
            self.allowance.spend(stop - index)
            if stop == len(data):
                self.allowance.no_close = (data, index)
            return "", stop, False
        depth = 1
        for match in _BRACKET.finditer(data, index, stop):
            depth += 1 if match.group() == "[" else -1
            if depth == 0:
                self.allowance.spend(match.end() - index)
                return data[index : match.start()], match.end(), True
        # No `]` within the text (or within what the allowance still pays for).
        self.allowance.spend(stop - index)
        return "", stop, False

    def getLink(self, data: str, index: int) -> tuple[str, str | None, int, bool]:  # noqa: N802
        """The `(url "title")` after a link's text, when the allowance pays for the scan."""
        if not data.startswith("(", index):
            return "", None, index, False  # Python-Markdown rejects it without a scan
        rest = len(data) - index
        if rest > self.allowance.left:
            self.allowance.left = 0
            return "", None, index, False
        href, title, end, handled = super().getLink(data, index)  # type: ignore[misc]
        # The scan stopped at `end` when it closed normally: with a title, or without a
        # quote on the way; otherwise it went on to the end of the text.
        stopped = (
            handled and end > index and (title is not None or not _has_quote(data, index, end))
        )
        self.allowance.spend(end - index if stopped else rest)
        return href, title, end, handled


def _has_quote(data: str, start: int, end: int) -> bool:
    return any(data.find(q, start, end) != -1 for q in _QUOTES)


class _Link(_BoundedBrackets, LinkInlineProcessor):
    pass


class _Image(_BoundedBrackets, ImageInlineProcessor):
    pass


class _Reference(_BoundedBrackets, ReferenceInlineProcessor):
    pass


class _ImageReference(_BoundedBrackets, ImageReferenceInlineProcessor):
    pass


class _ShortReference(_BoundedBrackets, ShortReferenceInlineProcessor):
    pass


class _ShortImageReference(_BoundedBrackets, ShortImageReferenceInlineProcessor):
    pass


# Python-Markdown's own names, patterns and priorities (markdown.inlinepatterns).
_INLINE = [
    ("reference", _Reference, REFERENCE_RE, 170),
    ("link", _Link, LINK_RE, 160),
    ("image_link", _Image, IMAGE_LINK_RE, 150),
    ("image_reference", _ImageReference, IMAGE_REFERENCE_RE, 140),
    ("short_reference", _ShortReference, REFERENCE_RE, 130),
    ("short_image_ref", _ShortImageReference, IMAGE_REFERENCE_RE, 125),
]


class _BoundedHTMLExtractor(HTMLExtractor):
    """Raw HTML finder whose look for the end of each start tag is paid from an allowance."""

    def __init__(self, md: Markdown, allowance: ScanAllowance):
        self.allowance = allowance
        super().__init__(md)

    def check_for_whole_start_tag(self, i: int) -> int:
        """Where the start tag at `i` ends, or -1: the `<` is then text."""
        stop = min(len(self.rawdata), i + self.allowance.left)
        found = htmlparser.locatestarttagend_tolerant.match(self.rawdata, i, stop)
        if found is None or (found.end() == stop < len(self.rawdata)):
            self.allowance.left = 0
            return -1
        self.allowance.spend(found.end() - i)
        return super().check_for_whole_start_tag(i)


class _BoundedHtmlBlock(HtmlBlockPreprocessor):
    def __init__(self, md: Markdown, allowance: ScanAllowance):
        super().__init__(md)
        self.allowance = allowance

    def run(self, lines: list[str]) -> list[str]:
        parser = _BoundedHTMLExtractor(self.md, self.allowance)
        parser.feed("\n".join(lines))
        parser.close()
        return "".join(parser.cleandoc).split("\n")


class _Shallow(BlockProcessor):
    """A nesting block processor (list, blockquote) that stops at MAX_NESTING levels."""

    def __init__(self, inner: BlockProcessor):
        super().__init__(inner.parser)
        self.inner = inner

    def test(self, parent, block) -> bool:
        return len(self.parser.state) < MAX_NESTING and self.inner.test(parent, block)

    def run(self, parent, blocks):
        return self.inner.run(parent, blocks)


_NESTING = {"indent": 90, "olist": 40, "ulist": 30, "quote": 20}


class LimitsExtension(Extension):
    """Bound the work of rendering a document of `text_length` characters; load it last."""

    def __init__(self, text_length: int):
        super().__init__()
        self.text_length = text_length

    def extendMarkdown(self, md):  # noqa: N802 - Markdown's API name
        links = ScanAllowance(self.text_length)
        for name, cls, pattern, priority in _INLINE:
            processor = cls(pattern, md)
            processor.allowance = links
            md.inlinePatterns.register(processor, name, priority)
        tags = ScanAllowance(self.text_length)
        md.preprocessors.register(_BoundedHtmlBlock(md, tags), "html_block", 20)
        blocks = md.parser.blockprocessors
        for name, priority in _NESTING.items():
            blocks.register(_Shallow(blocks[name]), name, priority)
