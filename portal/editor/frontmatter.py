"""Changing one front matter list of an article file without touching the rest of its text."""

import yaml


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
