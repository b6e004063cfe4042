"""A draft article from a resolved ticket: the question and the answer, personal data removed."""

import re
import secrets

from portal.accounts.models import User
from portal.editor.services import ArticleDraft, all_articles, save
from portal.extensions import db
from portal.tickets.categories import configured_categories
from portal.tickets.models import Ticket

HIDDEN = "[…]"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<!\w)(?:\+?\d[\d\s().-]{8,}\d)(?!\w)")
TICKET_NUMBER = re.compile(r"\[?#?\d{4}-\d{6}\]?")
_TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "y",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "h",
            "ts",
            "ch",
            "sh",
            "sch",
            "",
            "y",
            "",
            "e",
            "yu",
            "ya",
        ],
        strict=True,
    )
)


def redact(text: str, ticket: Ticket) -> str:
    """Remove e-mail addresses, phone numbers, ticket numbers and the customer's names."""
    text = EMAIL.sub(HIDDEN, text)
    text = TICKET_NUMBER.sub(HIDDEN, text)
    text = PHONE.sub(HIDDEN, text)
    names = [ticket.author.name] + ([ticket.organisation.name] if ticket.organisation else [])
    for name in names:
        for part in [name, *name.split()]:
            if len(part) >= 3:
                text = re.sub(rf"(?<!\w){re.escape(part)}(?!\w)", HIDDEN, text, flags=re.I)
    return text


def slugify(title: str) -> str:
    latin = "".join(_TRANSLIT.get(ch, ch) for ch in title.lower())
    slug = re.sub(r"[^a-z0-9]+", "-", latin).strip("-")[:60].strip("-")
    return slug or "article"


def draft_from_ticket(ticket: Ticket, editor: User) -> str:
    """Write a draft article from the ticket's question and public answers; returns its slug."""
    public = [m for m in ticket.messages if not m.internal]
    question = "\n\n".join(redact(m.body, ticket) for m in public if not m.by_staff)
    answer = "\n\n".join(redact(m.body, ticket) for m in public if m.by_staff)
    categories = configured_categories()
    category = getattr(categories.get(ticket.category), "kb_category", None) or "support"
    lang = ticket.lang if ticket.lang in ("ru", "en") else "ru"
    headings = {"ru": ("Вопрос", "Решение"), "en": ("Question", "Solution")}[lang]
    title = redact(ticket.title, ticket)
    taken = {a.slug for a in all_articles()}
    slug = slugify(title)
    while slug in taken:
        slug = f"{slugify(title)}-{secrets.token_hex(2)}"
    body = f"## {headings[0]}\n\n{question}\n\n## {headings[1]}\n\n{answer}\n"
    article = save(
        ArticleDraft(
            title=title, slug=slug, lang=lang, category=category, summary="", body=body, draft=True
        ),
        editor,
    )
    ticket.kb_article_slug = article.slug
    db.session.commit()
    return article.slug
