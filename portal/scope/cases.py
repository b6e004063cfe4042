"""Labelled requests: the shipped set the classifier learns from and is measured on."""

from pathlib import Path

import yaml

from portal.scope.rules import VERDICTS

DEFAULT_CASES = Path(__file__).resolve().parent.parent / "scope_cases.yml"


def _read(path: Path):
    try:
        return yaml.safe_load(path.read_text("utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: {exc}") from None


def load_sections(path: Path | str | None = None) -> dict[str, list[dict]]:
    """Labelled cases by section; a file that is a plain list is one section, "cases"."""
    path = Path(path or DEFAULT_CASES)
    data = _read(path)
    names = list(data) if isinstance(data, dict) else ["cases"]
    return {name: load_cases(path, name if isinstance(data, dict) else None) for name in names}


def load_cases(path: Path | str | None = None, section: str | None = None) -> list[dict]:
    """Labelled cases from a YAML file: a list, or a mapping of sections (None: all of them)."""
    path = Path(path or DEFAULT_CASES)
    data = _read(path) or []
    if isinstance(data, dict):
        if section is None:
            data = [case for part in data.values() for case in part or []]
        elif section in data:
            data = data[section] or []
        else:
            raise ValueError(f"{path}: no section {section!r}")
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of cases or a mapping of sections")
    for n, case in enumerate(data, 1):
        if not isinstance(case, dict) or not isinstance(case.get("text"), str):
            raise ValueError(f"{path}: case {n} needs a text")
        if case.get("expected") not in VERDICTS:
            raise ValueError(f"{path}: case {n} expects one of {', '.join(VERDICTS)}")
    return data
