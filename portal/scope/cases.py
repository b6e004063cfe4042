"""Labelled requests: the shipped set the classifier learns from and is measured on."""

from pathlib import Path

import yaml

from portal.scope.rules import VERDICTS

DEFAULT_CASES = Path(__file__).resolve().parent.parent / "scope_cases.yml"


# libyaml's parser where PyYAML was built with it: the shipped set parses 150x faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(path: Path):
    try:
        return yaml.load(path.read_text("utf-8"), Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: {exc}") from None


def _checked(cases, path: Path) -> list[dict]:
    if not isinstance(cases, list):
        raise ValueError(f"{path}: expected a list of cases or a mapping of sections")
    for n, case in enumerate(cases, 1):
        if not isinstance(case, dict) or not isinstance(case.get("text"), str):
            raise ValueError(f"{path}: case {n} needs a text")
        if case.get("expected") not in VERDICTS:
            raise ValueError(f"{path}: case {n} expects one of {', '.join(VERDICTS)}")
    return cases


def load_sections(path: Path | str | None = None) -> dict[str, list[dict]]:
    """Labelled cases by section; a file that is a plain list is one section, "cases"."""
    path = Path(path or DEFAULT_CASES)
    data = _read(path) or []
    if not isinstance(data, dict):
        return {"cases": _checked(data, path)}
    return {name: _checked(cases or [], path) for name, cases in data.items()}


def load_cases(path: Path | str | None = None, section: str | None = None) -> list[dict]:
    """Labelled cases from a YAML file: a list, or a mapping of sections (None: all of them)."""
    path = Path(path or DEFAULT_CASES)
    sections = load_sections(path)
    if section is None:
        return [case for cases in sections.values() for case in cases]
    if section not in sections:
        raise ValueError(f"{path}: no section {section!r}")
    return sections[section]
