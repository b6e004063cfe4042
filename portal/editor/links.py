"""Keeping links between articles working when an article is renamed or moved, and the
redirects from the slugs articles had before."""

import posixpath
import re

import yaml

from portal.kb.articles import link_target

LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def _body_start(text: str) -> int:
    """Where the body of an article file begins (after its front matter)."""
    if not text.startswith("---"):
        return 0
    match = re.search(r"^---[ \t]*$", text[3:], flags=re.MULTILINE)
    if match is None:
        return 0
    end = 3 + match.end()
    return end + 1 if text[end : end + 1] == "\n" else end


def relink(
    text: str, old_source: str, new_source: str, moves: dict[str, str], slugs: dict[str, str]
) -> str:
    """The article file `text`, once at `old_source` and now at `new_source`, with every link
    to a moved file (`moves`: old path -> new path) or a renamed slug (`slugs`) pointed at
    the new place, and its relative links still right from its new folder."""
    start = _body_start(text)
    body = text[start:]
    moved_here = posixpath.dirname(old_source) != posixpath.dirname(new_source)

    def replace(match: re.Match) -> str:
        href = match.group(1)
        target = link_target(href, old_source)
        if target is None:
            return match.group(0)
        anchor = "#" + href.split("#", 1)[1] if "#" in href else ""
        kind, value = target
        if kind == "slug":
            if value not in slugs:
                return match.group(0)
            prefix = "/kb/" if href.startswith("/kb/") else "slug:"
            new_href = prefix + slugs[value] + anchor
        else:
            if value not in moves and not moved_here:
                return match.group(0)
            folder = posixpath.dirname(new_source) or "."
            new_href = posixpath.relpath(moves.get(value, value), folder) + anchor
        whole = match.group(0)
        at = whole.index(href)
        return whole[:at] + new_href + whole[at + len(href) :]

    return text[:start] + LINK.sub(replace, body)


def with_redirect(redirects: dict[str, str], old: str, new: str) -> dict[str, str]:
    """The redirects after `old` became `new`: chains are shortened, a slug in use again
    no longer redirects."""
    updated = {k: (new if v == old else v) for k, v in redirects.items()}
    updated[old] = new
    updated.pop(new, None)
    return {k: v for k, v in updated.items() if k != v}


def redirects_text(redirects: dict[str, str]) -> str:
    head = "# Old article slugs and where they moved; /kb/<old> answers 301 to /kb/<new>.\n"
    body = yaml.safe_dump(dict(sorted(redirects.items())), allow_unicode=True, width=1000)
    return head + body
