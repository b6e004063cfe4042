"""Hostile Markdown: each payload below took Python-Markdown quadratic time (2,000 `[`
took 0.9 s, 50,000 minutes) or crashed it; each now renders a 50,000-character
message in well under a second, and these tests pin what the reader gets."""

import re

import pytest

from portal.kb.markup import render
from portal.kb.markup_limits import MAX_NESTING

# The largest message body a form or the API accepts.
MESSAGE_LIMIT = 50_000

NO_LINKS = {
    "brackets": "[" * 2000,
    "brackets at the limit": "[" * MESSAGE_LIMIT,
    "bracket letter": "[a" * 20_000,
    "image openers": "![" * 20_000,
    "footnote-like": "[^" * 20_000,
    "bracket lines": "[\n" * 25_000,
    "deep nesting": "[" * 25_000 + "x" + "]" * 25_000,
    "unclosed targets": "[](" * 16_000,
    "unclosed targets with text": "[x](" * 12_500,
    "unclosed image targets": "![x](" * 10_000,
    "unclosed angle targets": "[](<" * 12_500,
    "unknown references": "[a][" * 12_500,
    "cdata": "<![CDATA[" * 5_500,
}


def _links(html: str) -> int:
    return len(re.findall(r"<(?:a|img)\b", html))


@pytest.mark.parametrize("payload", NO_LINKS.values(), ids=NO_LINKS.keys())
def test_bracket_runs_render_as_text_without_links(payload):
    html = render(payload).html
    assert _links(html) == 0
    visible = re.sub(r"<[^>]+>", "", html).replace("&lt;", "<").replace("&amp;", "&")
    # Every bracket the writer typed is still on the page.
    assert visible.count("[") == payload.count("[")


def test_nested_brackets_keep_their_text():
    html = render("[[[[x]]]]" * 5000).html
    assert _links(html) == 0
    assert html.count("[[[[x]]]]") == 5000


@pytest.mark.parametrize("unit", ["<a ", "<a b=", "<a b='x' ", "<http://", "<p\n"])
def test_unclosed_tags_render_as_escaped_text(unit):
    payload = unit * (MESSAGE_LIMIT // len(unit))
    html = render(payload).html
    assert "<a " not in html and "<p " not in html
    assert html.count("&lt;") == payload.count("<")


@pytest.mark.parametrize("char", ["*", "_", "`", "~"])
def test_runs_of_emphasis_and_code_characters(char):
    run = char * (MESSAGE_LIMIT - 4)
    assert render(f"x {run} y").html == f"<p>x {run} y</p>"


def test_dense_emphasis_renders():
    # The slowest payload left (about 1 s at the limit): every match rebuilds the paragraph.
    html = render("*_" * 25_000).html
    assert html.startswith("<p>") and _links(html) == 0


def test_links_after_hostile_text_in_another_message_still_work():
    render("[" * MESSAGE_LIMIT)  # nothing carries over from one document to the next
    html = render(
        "See [the guide](https://example.com/guide) and ![logo](https://example.com/l.png)."
    ).html
    assert 'href="https://example.com/guide"' in html
    assert '<img alt="logo" src="https://example.com/l.png">' in html


def test_ordinary_links_beside_a_long_bracket_run():
    body = (
        "[a](https://example.com/a) "
        + "[" * 10_000
        + "\n\n[b](https://example.com/b)\n\n[ref]\n\n[ref]: https://example.com/r"
    )
    html = render(body).html
    for url in ("https://example.com/a", "https://example.com/b", "https://example.com/r"):
        assert f'href="{url}"' in html


def test_link_forms_render_as_before():
    body = (
        '[t](https://e.com/x "Title") [u](<https://e.com/y z>) [v](https://e.com/p(1)) '
        "![i](https://e.com/i.png) [r][id] [id]\n\n[id]: https://e.com/ref"
    )
    html = render(body).html
    assert 'href="https://e.com/x" title="Title"' in html
    assert 'href="https://e.com/y%20z"' in html or 'href="https://e.com/y z"' in html
    assert 'href="https://e.com/p(1)"' in html
    assert '<img alt="i" src="https://e.com/i.png">' in html
    assert html.count('href="https://e.com/ref"') == 2


def test_raw_html_blocks_still_pass_through_the_sanitiser():
    html = render("<details><summary>More</summary>\n\nText\n\n</details>\n\n<b>bold</b>").html
    assert "<details><summary>More</summary>" in html and "<b>bold</b>" in html


def test_deep_nesting_renders_instead_of_crashing():
    for payload in (
        "1. " * 16_666,
        "> " * 25_000,
        "".join(" " * (4 * i) + "- a\n" for i in range(300)),
    ):
        html = render(payload).html
        assert html  # no RecursionError, the text is on the page


def test_nesting_that_people_write_is_kept():
    body = "".join("    " * i + "- level\n" for i in range(MAX_NESTING // 4))
    assert render(body).html.count("<ul>") == MAX_NESTING // 4
    assert render("> " * 10 + "deep").html.count("<blockquote>") == 10
