"""Authentication-Results (RFC 8601): what our own MTA concluded about a letter's sender.

Pure functions. A sender can write any Authentication-Results header, so only the topmost one
carrying our MTA's authserv-id counts (the MTA removes incoming ones with that id); DMARC, or
DKIM or SPF aligned with the From domain, must have passed.
"""

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(r'\s+|"(?:[^"\\]|\\.)*"?|[;=/]|[^\s;=/"()]+', re.DOTALL)
_SYMBOLS = (";", "=", "/")


class _Quoted(str):
    """A quoted string's content: never a symbol, whatever it spells."""


def _symbol(token: str, which: str | tuple[str, ...] = _SYMBOLS) -> bool:
    return not isinstance(token, _Quoted) and token in which


@dataclass(frozen=True)
class Result:
    """One method's verdict: `dkim=pass header.d=example.com` is method dkim, result pass."""

    method: str
    result: str
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AuthenticationResults:
    authserv_id: str
    results: list[Result]


def _without_comments(value: str) -> str:
    """The header with (nested) comments blanked out, quoted strings left alone."""
    out, depth, quoted, escaped = [], 0, False, False
    for char in value:
        if escaped:
            escaped = False
            out.append(char if depth == 0 else " ")
        elif char == "\\" and (quoted or depth):
            escaped = True
            out.append(char if depth == 0 else " ")
        elif quoted:
            quoted = char != '"'
            out.append(char)
        elif char == "(":
            depth += 1
            out.append(" ")
        elif char == ")" and depth:
            depth -= 1
            out.append(" ")
        elif depth:
            out.append(" ")
        else:
            quoted = char == '"'
            out.append(char)
    return "".join(out)


def _joins(previous: str, raw: str) -> bool:
    """Whether `raw` continues a dotted name broken by space or a comment (`header . d`)."""
    plain = not isinstance(previous, _Quoted) and previous not in _SYMBOLS
    return plain and raw not in _SYMBOLS and (previous.endswith(".") or raw.startswith("."))


def _tokens(text: str) -> list[str]:
    """Words, quoted strings (unquoted) and the symbols ; = /, with the dots of `a . b` joined."""
    tokens: list[str] = []
    for raw in _TOKEN.findall(text):
        if raw.isspace():
            continue
        if raw[0] == '"':
            tokens.append(_Quoted(re.sub(r"\\(.)", r"\1", raw[1:].removesuffix('"'))))
        elif tokens and _joins(tokens[-1], raw):
            tokens[-1] += raw
        else:
            tokens.append(raw)
    return tokens


def _split(tokens: list[str]) -> list[list[str]]:
    groups: list[list[str]] = [[]]
    for token in tokens:
        if _symbol(token, ";"):
            groups.append([])
        else:
            groups[-1].append(token)
    return groups


def _result(tokens: list[str]) -> Result | None:
    """`method[/version] = result [reason=...] [ptype.property=value ...]`."""
    if len(tokens) >= 3 and _symbol(tokens[1], "/"):
        tokens = tokens[:1] + tokens[3:]  # the method's version does not change its meaning
    if len(tokens) < 3 or not _symbol(tokens[1], "="):
        return None
    method, result, properties = tokens[0].lower(), tokens[2].lower(), {}
    rest = tokens[3:]
    for i in range(len(rest) - 2):
        if _symbol(rest[i + 1], "=") and not _symbol(rest[i]) and not _symbol(rest[i + 2]):
            properties.setdefault(rest[i].lower(), rest[i + 2])
    return Result(method, result, properties)


def parse(value: str) -> AuthenticationResults | None:
    """One Authentication-Results header value, or None if it has no authserv-id."""
    groups = _split(_tokens(_without_comments(value or "")))
    head = groups[0]
    if not head or _symbol(head[0]):
        return None
    results = [r for r in (_result(group) for group in groups[1:]) if r is not None]
    return AuthenticationResults(head[0].lower(), [r for r in results if r.method != "none"])


def _domain(value: str) -> str:
    """The domain of `user@example.com`, `@example.com` or `example.com`, lower case."""
    return value.rpartition("@")[2].strip().strip(".").lower()


def _passes(result: Result, domain: str) -> bool:
    if result.result != "pass":
        return False
    found = result.properties
    if result.method == "dmarc":
        return _domain(found.get("header.from", domain)) == domain
    if result.method == "dkim":
        signers = [found[k] for k in ("header.d", "header.i") if k in found]
        return any(_domain(signer) == domain for signer in signers)
    if result.method == "spf":
        return _domain(found.get("smtp.mailfrom", "")) == domain
    return False


def sender_verified(headers: list[str], authserv_id: str | None, sender: str) -> bool:
    """Whether our MTA's verdict (topmost header with our authserv-id) vouches for `sender`."""
    if not authserv_id or "@" not in (sender or ""):
        return False
    domain = _domain(sender)
    ours = (parsed for parsed in map(parse, headers) if parsed is not None)
    own = next((p for p in ours if p.authserv_id == authserv_id.strip().lower()), None)
    return own is not None and any(_passes(result, domain) for result in own.results)
