"""E-mail HTML without remote images: a picture from elsewhere (a tracking pixel) becomes a link.

Runs on HTML that is already sanitised; every tag and text run other than <img> is copied
through unchanged, so attributes that merely mention "<img" stay what they are.
"""

import html
import re
from html.parser import HTMLParser

_WEB = re.compile(r"https?://", re.IGNORECASE)


class _Images(HTMLParser):
    def __init__(self, own: re.Pattern[str], base_url: str):
        super().__init__(convert_charrefs=False)
        self.own, self.base_url = own, base_url
        self.out: list[str] = []

    def _image(self, attrs: list[tuple[str, str | None]]) -> str:
        values = {name: (value or "").strip() for name, value in attrs}
        src, alt = values.get("src", ""), values.get("alt", "")
        if self.own.fullmatch(src):
            absolute = src if _WEB.match(src) else self.base_url + src
            kept = {**values, "src": absolute}
            return "<img " + " ".join(f'{k}="{html.escape(v)}"' for k, v in kept.items()) + ">"
        label = html.escape(alt or src)
        if _WEB.match(src):
            return f'<a href="{html.escape(src)}" rel="noopener noreferrer">{label}</a>'
        return label

    def handle_starttag(self, tag, attrs):
        self.out.append(self._image(attrs) if tag == "img" else self.get_starttag_text() or "")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        self.out.append(f"</{tag}>")

    def handle_data(self, data):
        self.out.append(data)

    def handle_entityref(self, name):
        self.out.append(f"&{name};")

    def handle_charref(self, name):
        self.out.append(f"&#{name};")

    def handle_comment(self, data):
        self.out.append(f"<!--{data}-->")

    def handle_decl(self, decl):
        self.out.append(f"<!{decl}>")

    def handle_pi(self, data):
        self.out.append(f"<?{data}>")

    def unknown_decl(self, data):
        self.out.append(f"<![{data}]>")


def without_remote_images(markup: str, base_url: str) -> str:
    """`markup` with every <img> not showing one of our attachments turned into a link or text."""
    base_url = base_url.rstrip("/")
    own = re.compile(rf"(?:{re.escape(base_url)})?/attachments/\d+", re.IGNORECASE)
    parser = _Images(own, base_url)
    parser.feed(markup)
    parser.close()
    return "".join(parser.out)
