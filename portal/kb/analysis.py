"""Text analysis shared by the index, the query builder and the scope rules.

One analyser serves both languages: every token is stemmed by the stemmer of
its own script (Cyrillic -> Russian, Latin -> English), so a Russian article
that mentions "CRM" or "e-mail" and a query in mixed scripts work alike.
"""

import re
import unicodedata
from functools import lru_cache

import Stemmer
from whoosh.lang import stopwords_for_language

TOKEN_PATTERN = r"\w+(?:[.]\w+)*"
# Whoosh's lists plus the politeness and filler words support questions are full of.
EXTRA_STOP_WORDS = {
    "это",
    "эта",
    "этот",
    "эти",
    "можно",
    "нужно",
    "пожалуйста",
    "здравствуйте",
    "спасибо",
    "подскажите",
    "наш",
    "наша",
    "наше",
    "наши",
    "мой",
    "моя",
    "мое",
    "мои",
    "ваш",
    "ваша",
    "свой",
    "своя",
    "также",
    "просто",
    "добрый",
    "hello",
    "please",
    "thanks",
    "thank",
    "hi",
    "could",
    "would",
    "my",
    "our",
    "your",
    "can",
    "how",
    "why",
    "what",
}
STOP_WORDS = (
    frozenset(stopwords_for_language("ru"))
    | frozenset(stopwords_for_language("en"))
    | frozenset(EXTRA_STOP_WORDS)
)
CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
LATIN = re.compile(r"[a-z]", re.IGNORECASE)
WORD = re.compile(TOKEN_PATTERN)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

_russian = Stemmer.Stemmer("russian")
_english = Stemmer.Stemmer("english")


def fold(text: str) -> str:
    """Lower-case and fold "ё" to "е" so both spellings meet."""
    return text.lower().replace("ё", "е")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Stem one folded word with the stemmer of its script."""
    if word.isdigit() or len(word) < 3:
        return word
    stemmer = _russian if CYRILLIC.search(word) else _english
    return stemmer.stemWord(word)


_RU_SUFFIXES = (
    "ирова",
    "ова",
    "ева",
    "ива",
    "ыва",
    "лен",
    "ен",
    "ан",
    "ац",
    "ок",
    "к",
    "л",
    "а",
    "я",
    "й",
)
ROOT_LENGTH = 5


@lru_cache(maxsize=200_000)
def root(term: str) -> str:
    """A coarser form of a Russian stem that joins derived words.

    Snowball keeps "отправ" (отправить) and "отправк" (отправка) apart; dropping
    one derivational suffix and keeping five letters brings them together. It
    feeds a low-weight field, so exact stems still rank first.
    """
    if not CYRILLIC.search(term) or len(term) <= 3:
        return term
    for suffix in _RU_SUFFIXES:
        if term.endswith(suffix) and len(term) - len(suffix) >= 3:
            term = term[: -len(suffix)]
            break
    return term[:ROOT_LENGTH]


def clean(text: str) -> str:
    """Normalise user input: Unicode NFC, no control characters, single spaces."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text)
    return " ".join(text.split())


def words(text: str) -> list[str]:
    """Folded words of a text, stop words kept (for spelling and phrases)."""
    return WORD.findall(fold(text))


def terms(text: str) -> list[str]:
    """Index terms of a text: folded, stop words removed, stemmed."""
    return [stem(w) for w in words(text) if w not in STOP_WORDS and len(w) > 1]


def language_of(text: str, fallback: str = "en") -> str:
    """The language a text is written in, by its script: Russian when it has a Cyrillic
    letter (Russian questions carry Latin names: "не работает webhook в CRM"), English
    when it has Latin letters, else `fallback`."""
    if CYRILLIC.search(text):
        return "ru"
    return "en" if LATIN.search(text) else fallback
