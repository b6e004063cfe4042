"""Synonym groups editors keep in `articles/_synonyms.yml`, applied at query time.

The file maps a language to a list of groups; every member of a group finds
what any other member finds, e.g. ``[почта, e-mail, mail]``. Members may be
several words ("двухфакторная аутентификация").
"""

from dataclasses import dataclass
from pathlib import Path

import yaml

from portal.kb.analysis import terms


@dataclass(frozen=True)
class SynonymTable:
    """Analysed synonym groups by language: each member is a tuple of stems."""

    groups: dict[str, tuple[tuple[tuple[str, ...], ...], ...]]

    def groups_for(self, lang: str | None) -> tuple[tuple[tuple[str, ...], ...], ...]:
        """Groups that apply to a query in `lang` (all languages when unknown)."""
        if lang in self.groups:
            return self.groups[lang]
        return tuple(g for groups in self.groups.values() for g in groups)

    def expand(self, stems: list[str], lang: str | None) -> list[tuple[tuple[str, ...], ...]]:
        """Split query stems into units; a unit lists the stem sequences that may stand for it."""
        groups = self.groups_for(lang)
        units: list[tuple[tuple[str, ...], ...]] = []
        i = 0
        while i < len(stems):
            best: tuple[int, tuple[tuple[str, ...], ...]] | None = None
            for group in groups:
                for member in group:
                    n = len(member)
                    if n and tuple(stems[i : i + n]) == member and (best is None or n > best[0]):
                        best = (n, group)
            if best is None:
                units.append(((stems[i],),))
                i += 1
            else:
                units.append(best[1])
                i += best[0]
        return units


def load_synonyms(path: Path) -> SynonymTable:
    """Read the synonyms file; a missing or malformed file means no synonyms."""
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except (OSError, yaml.YAMLError):
        data = {}
    groups: dict[str, tuple] = {}
    if isinstance(data, dict):
        for lang, raw_groups in data.items():
            parsed = []
            for raw in raw_groups or []:
                if not isinstance(raw, list):
                    continue
                members = tuple(dict.fromkeys(tuple(terms(str(m))) for m in raw if terms(str(m))))
                if len(members) > 1:
                    parsed.append(members)
            groups[str(lang)] = tuple(parsed)
    return SynonymTable(groups)
