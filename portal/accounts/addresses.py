"""E-mail addresses as accounts know them: one normal form, and a look-alike "skeleton".

Pure functions: no Flask, no database. `ｄｅｍｏ@…` (full-width) and `DEMO@…` become
`demo@…` (NFKC, then casefold); `dеmo@…` with a Cyrillic "е" keeps its letters but its
skeleton is `demo@…`, so it can be told apart from, and refused beside, the real one.
"""

import contextlib
import unicodedata

from email_validator import EmailNotValidError, validate_email

# Letters of other scripts that read as Latin ones once lower-cased (after NFKC and
# casefold, so capitals and full-width forms are already folded away).
CONFUSABLES = str.maketrans(
    {
        # Cyrillic
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "г": "r",
        "һ": "h",
        "і": "i",
        "ї": "i",
        "ј": "j",
        "к": "k",
        "ӏ": "l",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "ԛ": "q",
        "с": "c",
        "ѕ": "s",
        "т": "t",
        "у": "y",
        "ү": "y",
        "ѵ": "v",
        "ԝ": "w",
        "х": "x",
        "ԁ": "d",
        "ь": "b",
        "ɡ": "g",
        # Greek
        "α": "a",
        "β": "b",
        "γ": "y",
        "ε": "e",
        "η": "n",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
        "ω": "w",
        # Latin letters that pass for others
        "ı": "i",
        "ȷ": "j",
        "ɑ": "a",
    }
)


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


def normalise_email(email: str) -> str:
    """The stored form of an address: NFKC, trimmed, case-folded, domain in IDNA (ASCII)."""
    folded = _folded(email or "")
    try:
        parsed = validate_email(folded, check_deliverability=False)
    except EmailNotValidError:
        return folded  # not an address anyone can sign up with; look-ups simply miss
    return f"{parsed.local_part.casefold()}@{parsed.ascii_domain}"


def _unicode_parts(email: str) -> tuple[str, str]:
    folded = _folded(email or "")
    local, _sep, domain = folded.rpartition("@")
    with contextlib.suppress(EmailNotValidError):
        domain = validate_email(folded, check_deliverability=False).domain.casefold()
    return local, domain


def skeleton(email: str) -> str:
    """The address with look-alike letters of other scripts replaced by the Latin ones."""
    local, domain = _unicode_parts(email)
    return f"{local.translate(CONFUSABLES)}@{domain.translate(CONFUSABLES)}"


def _script(char: str) -> str | None:
    if not char.isalpha():
        return None  # digits, dots, dashes and the like belong to every script
    return unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]


def mixes_scripts(email: str) -> bool:
    """Whether the part before @, or a label of the domain, has letters of more than one
    script (Latin and Cyrillic…)."""
    local, domain = _unicode_parts(email)
    return any(
        len({s for s in map(_script, part) if s}) > 1 for part in [local, *domain.split(".")]
    )
