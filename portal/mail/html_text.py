"""The text of an HTML mail body. Pure standard library."""

import re
from html.parser import HTMLParser


class _HtmlText(HTMLParser):
    """Text of an HTML body: blocks and <br> become line breaks, blockquotes become "> " lines."""

    BREAKS = re.compile(r"br|blockquote|p|div|li|[dou]l|d[dt]|tr|table|pre|hr|h\d|section|article")
    SKIPPED = ("script", "style", "title")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self.skipping = self.quoting = self.preformatted = 0

    def _break(self, always: bool = False) -> None:
        line_start = "\n" + "> " * min(self.quoting, 9)
        if always or not self.pieces or self.pieces[-1] != line_start:
            self.pieces.append(line_start)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.skipping += tag in self.SKIPPED
        self.quoting += tag == "blockquote"
        self.preformatted += tag == "pre"
        if self.BREAKS.fullmatch(tag):
            self._break(always=tag == "br")
        if tag == "li":
            self.pieces.append("- ")

    def handle_endtag(self, tag: str) -> None:
        self.skipping = max(0, self.skipping - (tag in self.SKIPPED))
        self.quoting = max(0, self.quoting - (tag == "blockquote"))
        self.preformatted = max(0, self.preformatted - (tag == "pre"))
        if tag != "br" and self.BREAKS.fullmatch(tag):
            self._break()
        elif tag in ("td", "th"):
            self.pieces.append(" ")

    def handle_data(self, data: str) -> None:
        at_line_start = self.pieces and self.pieces[-1].startswith("\n")
        if not self.skipping and not (at_line_start and not data.strip(" \t\r\n\f")):
            text = data if self.preformatted else re.sub(r"\s+", " ", data)
            self.pieces.append(text.replace("\n", "\n" + "> " * min(self.quoting, 9)))


def html_to_text(html: str) -> str:
    """Plain text of an HTML body (a crude tag strip if the parser gives up)."""
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
        text = "".join(parser.pieces)
    except Exception:  # html.parser still has corner cases that raise on broken markup
        text = re.sub(r"<[^<>]*>", " ", re.sub(r"(?i)<br\s*/?>|</(?:p|div|li)>", "\n", html))
    lines: list[str] = []
    for line in text.replace("\xa0", " ").split("\n"):
        content = (line := line.strip()).lstrip("> ")
        line = ("> " * line[: len(line) - len(content)].count(">") + content).rstrip()
        if line.strip("> ") or (lines and lines[-1].strip("> ")):  # at most one blank line
            lines.append(line)
    while lines and not lines[-1].strip("> "):
        lines.pop()
    return "\n".join(lines)
