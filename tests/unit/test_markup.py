import pytest

from portal.kb.markup import plain_text, render

ATTACKS = [
    "<script>alert(1)</script>",
    "[x](javascript:alert(1))",
    '<img src=x onerror="alert(1)">',
    '<svg onload="alert(1)"><circle/></svg>',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<a href="#" onclick="alert(1)">x</a>',
    '<iframe src="https://example.com"></iframe>',
    '<div style="background:url(javascript:alert(1))">x</div>',
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_raw_html_in_an_article_never_runs_script(attack):
    out = render(f"Text\n\n{attack}\n").html.lower()
    for bad in (
        "<script",
        "javascript:",
        "onerror",
        "onload",
        "onclick",
        "<iframe",
        "<svg",
        "data:text",
        "style=",
    ):
        assert bad not in out


def test_tables_code_and_toc():
    body = "## Первый\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ncode <b>\n```\n\n### Вложенный\n"
    rendered = render(body)
    assert "<table>" in rendered.html and "<td>1</td>" in rendered.html
    assert "<pre><code>code &lt;b&gt;" in rendered.html
    assert rendered.toc[0]["name"] == "Первый"
    assert rendered.toc[0]["children"][0]["name"] == "Вложенный"
    assert 'id="первый"' in rendered.html


def test_internal_links_are_resolved_and_external_ones_kept():
    def resolve(href, source):
        return "/kb/target" if href.startswith("../") or href.startswith("slug:") else None

    html = render(
        "[a](../crm/x.ru.md#part) [b](slug:y) [c](https://example.com)", "support/a.ru.md", resolve
    ).html
    assert 'href="/kb/target#part"' in html
    assert 'href="/kb/target"' in html
    assert 'href="https://example.com"' in html
    assert 'rel="noopener noreferrer"' in html


def test_plain_text_drops_markup():
    assert plain_text("## Hi **there**, [link](x.md) `code`\n\n| a | b |\n|---|---|") == (
        "Hi there, link code a b"
    )
