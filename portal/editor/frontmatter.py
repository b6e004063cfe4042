"""Changing the front matter of an article file without touching what did not change."""

import datetime as dt
import io

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError


def dump_list(key: str, values: list[str]) -> list[str]:
    """`key:` followed by one `- value` line per value, as the editor writes lists."""
    text = yaml.safe_dump({key: values}, allow_unicode=True, sort_keys=False, width=1000)
    return text.rstrip("\n").split("\n")


def replace_list(text: str, key: str, values: list[str]) -> str | None:
    """The file `text` with the list under `key` replaced, added or (when empty) removed.

    None when the front matter is not laid out plainly enough to edit in place; the caller
    then writes the whole file instead.
    """
    if "\r" in text or text.startswith("\ufeff"):
        return None
    lines = text.split("\n")
    if lines[0].strip() != "---":
        return None
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        return None
    start = next((i for i in range(1, end) if lines[i].startswith(f"{key}:")), end)
    stop = start
    if start < end:
        stop = start + 1
        # The value goes on while lines are indented, list items or blank.
        while stop < end and (lines[stop][:1] in (" ", "\t", "-") or not lines[stop].strip()):
            stop += 1
        while stop > start + 1 and not lines[stop - 1].strip():
            stop -= 1
    block = dump_list(key, values) if values else []
    return "\n".join(lines[:start] + block + lines[stop:])


def _round_trip() -> YAML:
    parser = YAML(typ="rt")
    parser.preserve_quotes = True
    parser.width = 100_000  # never fold a long summary onto a second line
    parser.indent(mapping=2, sequence=2, offset=0)
    return parser


def _same(old, new) -> bool:
    if isinstance(old, dt.date) and isinstance(new, dt.date):
        return old == new
    if isinstance(old, list) and isinstance(new, list):
        return [str(v) for v in old] == [str(v) for v in new]
    return old == new


def update_front_matter(text: str, meta: dict, body: str) -> str | None:
    """The file `text` with the fields of `meta` that changed written in place and `body`
    after the front matter; every unchanged field keeps its bytes (quotes, list style, order).

    Keys of `meta` whose value is None are removed. None when the file cannot be edited in
    place; the caller then writes the whole file instead.
    """
    if "\r" in text or text.startswith("\ufeff"):
        return None
    lines = text.split("\n")
    if lines[0].strip() != "---":
        return None
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        return None
    front = "\n".join(lines[1:end]) + "\n"
    parser = _round_trip()
    try:
        data = parser.load(front)
        unchanged = io.StringIO()
        parser.dump(data, unchanged)
    except YAMLError:
        return None
    if not isinstance(data, dict) or unchanged.getvalue() != front:
        return None  # this layout would not survive a round trip: write it afresh
    for key, value in meta.items():
        if value is None:
            data.pop(key, None)
        elif key not in data or not _same(data[key], value):
            if isinstance(value, list) and isinstance(data.get(key), list):
                data[key][:] = value  # keeps the list's flow or block style
            else:
                data[key] = value
    out = io.StringIO()
    parser.dump(data, out)
    return f"---\n{out.getvalue()}---\n{body}\n"
