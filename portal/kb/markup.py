"""Article Markdown to safe HTML: tables, fenced code, a table of contents,
internal links resolved to article URLs, and nh3 sanitising after rendering."""

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

import markdown
import nh3
from markdown.extensions import Extension
from markdown.extensions.toc import slugify_unicode
from markdown.treeprocessors import Treeprocessor

from portal.kb.articles import link_target
from portal.kb.markup_limits import LimitsExtension

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    **{f"h{n}": {"id"} for n in range(1, 7)},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}

LinkResolver = Callable[[str, str], str | None]


@dataclass
class Rendered:
    """An article body ready for the page."""

    html: str
    toc: list[dict]


def sanitize(raw_html: str) -> str:
    """Strip everything that could run script or restyle the page."""
    return nh3.clean(
        raw_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


class _InternalLinks(Treeprocessor):
    def __init__(self, md, resolve: LinkResolver, source_path: str):
        super().__init__(md)
        self.resolve = resolve
        self.source_path = source_path

    def run(self, root):
        for element in root.iter():
            attribute = {"a": "href", "img": "src"}.get(element.tag)
            if not attribute or not element.get(attribute):
                continue
            href = element.get(attribute)
            if element.tag == "a" and link_target(href, self.source_path) is not None:
                anchor = "#" + href.split("#", 1)[1] if "#" in href else ""
                url = self.resolve(href, self.source_path)
                element.set("href", (url + anchor) if url else "#")
            elif element.tag == "img" and not re.match(r"^[a-z][a-z0-9+.-]*:|^/", href):
                url = self.resolve(href, self.source_path)
                if url:
                    element.set("src", url)


class _InternalLinksExtension(Extension):
    def __init__(self, resolve: LinkResolver, source_path: str):
        super().__init__()
        self.resolve = resolve
        self.source_path = source_path

    def extendMarkdown(self, md):  # noqa: N802 - Markdown's API name
        md.treeprocessors.register(
            _InternalLinks(md, self.resolve, self.source_path), "portal_links", 5
        )


def render(body: str, source_path: str = "", resolve: LinkResolver | None = None) -> Rendered:
    """Render article Markdown to sanitised HTML with a table of contents."""
    extensions: list = ["tables", "fenced_code", "sane_lists", "toc"]
    if resolve is not None:
        extensions.append(_InternalLinksExtension(resolve, source_path))
    extensions.append(LimitsExtension(len(body)))
    md = markdown.Markdown(
        extensions=extensions,
        extension_configs={"toc": {"slugify": slugify_unicode, "toc_depth": "2-3"}},
        output_format="html",
    )
    try:
        raw = md.convert(body)
    except RecursionError:
        # Markup nested past what the limits catch (inline markup inside inline markup):
        # the reader still gets every word, as plain paragraphs.
        return Rendered(html=_as_text(body), toc=[])
    return Rendered(html=sanitize(raw), toc=[_toc_entry(t) for t in md.toc_tokens])


def _as_text(body: str) -> str:
    paragraphs = (p.strip() for p in re.split(r"\n\s*\n", body))
    return "".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs if p)


def _toc_entry(token: dict) -> dict:
    return {
        "id": token["id"],
        "name": html.unescape(token["name"]),
        "children": [_toc_entry(c) for c in token.get("children", [])],
    }


_MD_NOISE = [
    (re.compile(r"```.*?```", re.S), " "),
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"<[^>]+>"), " "),
    (re.compile(r"^\s{0,3}(#{1,6}|>|[-*+]|\d+[.)])\s+", re.M), ""),
    (re.compile(r"^\s*\|?[\s:|-]+\|[\s:|-]*$", re.M), " "),
    (re.compile(r"\|"), " "),
    (re.compile(r"(?<!\w)[*_`~]+|[*_`~]+(?!\w)"), ""),
]


def plain_text(body: str) -> str:
    """Article Markdown as plain text, for snippets and the spelling list."""
    for pattern, replacement in _MD_NOISE:
        body = pattern.sub(replacement, body)
    return " ".join(html.unescape(body).split())


def plain_lines(body: str) -> str:
    """Article Markdown as plain text that keeps its lines (list items, headings)."""
    for pattern, replacement in _MD_NOISE:
        body = pattern.sub(replacement, body)
    lines = (" ".join(line.split()) for line in html.unescape(body).splitlines())
    return "\n".join(line for line in lines if line)
