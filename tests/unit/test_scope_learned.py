"""The scope classifier learned from labelled requests (portal/scope/learned.py)."""

import logging
import os
from pathlib import Path

import pytest

from portal.kb.vectors import word_vectors
from portal.scope import (
    LearnedClassifier,
    RulesError,
    classify,
    labelled_requests,
    learned_of,
    load_cases,
    load_rules,
    with_classifier,
)

GARDEN = Path(__file__).resolve().parent.parent / "data" / "scope_meaning_rules.yml"
FENCES = [
    "please paint the fence around our house",
    "could you repaint our wooden fence",
    "our garden fence needs a new coat of paint, can you do it",
    "paint the gate and the fence next to the office",
    "the fence is peeling, please paint it for us",
    "we need someone to paint our fence this week",
]
PRODUCT = [
    "how do I add a user to the portal",
    "the calendar does not show my meetings",
    "how do I export contacts to a spreadsheet",
    "the mobile app does not send notifications",
    "where do I change the company logo",
    "tasks are not shown in the kanban board",
]


def cases_yaml(**sections) -> str:
    lines = []
    for name, cases in sections.items():
        lines.append(f"{name}:")
        for text, expected in cases:
            lines.append(f'  - {{text: "{text}", lang: en, expected: {expected}}}')
    return "\n".join(lines) + "\n"


@pytest.fixture()
def learning(tmp_path):
    """The garden rules with a `learning:` section naming tmp_path/cases.yml."""

    def write(cases: str, **settings) -> Path:
        (tmp_path / "cases.yml").write_text(cases, "utf-8")
        options = {"cases": "cases.yml", **settings}
        rules = GARDEN.read_text("utf-8") + f"learning: {options}\n".replace("'", "")
        path = tmp_path / "rules.yml"
        path.write_text(rules, "utf-8")
        return path

    return write


def test_a_request_no_pattern_catches_is_decided_by_what_was_learned(learning):
    text = "can you paint the fence behind our shop"
    assert classify(text, rules=load_rules(GARDEN)).verdict == "in_scope"
    fences = [(t, "out_of_scope") for t in FENCES] + [(t, "in_scope") for t in PRODUCT]
    rules = load_rules(learning(cases_yaml(cases=fences)))
    result = classify(text, rules=rules)
    # The verdict is learned; the rule whose examples are nearest explains it.
    assert (result.verdict, result.rule, result.reason) == (
        "out_of_scope",
        "gardening",
        "We do not do gardens.",
    )
    assert result.example in rules.rule("gardening").examples["en"]
    assert classify(text, special=True, rules=rules).reason == "Coupon."  # unless_special
    assert classify("how do I add a user to my team", rules=rules).verdict == "in_scope"


def test_held_out_sections_are_measured_not_learned(learning):
    fences = [(t, "out_of_scope") for t in FENCES]
    path = learning(cases_yaml(cases=[(t, "in_scope") for t in PRODUCT], later=fences))
    assert len(labelled_requests(load_rules(path)).texts) == 6 + 4 + 3 + 4 + 3 + 6
    held_out = load_rules(learning(Path(path.parent / "cases.yml").read_text(), held_out=["later"]))
    learned = labelled_requests(held_out)
    assert not set(FENCES) & set(learned.texts)
    assert classify("can you paint the fence behind our shop", rules=held_out).verdict == "in_scope"


def test_requests_of_another_tier_or_with_a_coupon_are_not_learned(learning):
    path = learning(
        "cases:\n"
        "  - {text: paint our fence, expected: in_scope, special: true}\n"
        "  - {text: paint the gate, expected: in_scope, tier: noncommercial}\n"
        "  - {text: how do I add a user, expected: in_scope}\n"
    )
    assert labelled_requests(load_rules(path)).texts[-1] == "how do I add a user"
    assert "paint our fence" not in labelled_requests(load_rules(path)).texts


def test_a_rules_unless_holds_against_the_classifier_unless_it_is_sure(learning):
    fences = [(t, "out_of_scope") for t in FENCES] + [(t, "in_scope") for t in PRODUCT]
    text = "can you paint the fence behind our shop, the old paint fails"  # `unless: [broken]`
    careful = load_rules(learning(cases_yaml(cases=fences), sure=1))
    assert classify(text, rules=careful).verdict == "in_scope"
    sure = load_rules(learning(cases_yaml(cases=fences), sure=0.01))
    assert classify(text, rules=sure).rule == "gardening"


def test_a_pattern_the_classifier_finds_very_unlikely_is_overruled(learning):
    weeding = [
        "how do I weed out duplicate contacts in the garden project",
        "weed the garden project's old tasks, how?",
        "how to weed out closed deals in the garden pipeline",
        "weed old files out of the garden group drive",
        "can I weed spam leads from the garden campaign automatically",
        "weed out inactive users of the garden workgroup",
    ]
    text = "how can I weed out old tasks in the garden workgroup"
    assert classify(text, rules=load_rules(GARDEN)).rule == "gardening"  # the pattern
    cases = [(t, "in_scope") for t in weeding + PRODUCT] + [(t, "out_of_scope") for t in FENCES]
    rules = load_rules(learning(cases_yaml(cases=cases), overrule=0.3))
    assert classify(text, rules=rules).verdict == "in_scope"
    strict = load_rules(learning(cases_yaml(cases=cases), overrule=0))
    assert classify(text, rules=strict).rule == "gardening"


def test_the_classifier_is_learned_once_and_again_when_its_cases_change(learning):
    path = learning(cases_yaml(cases=[(t, "in_scope") for t in PRODUCT]))
    vectors = word_vectors()
    first = learned_of(load_rules(path), vectors)
    assert learned_of(load_rules(path), vectors) is first
    os.utime(path.parent / "cases.yml", ns=(1, 1))
    assert learned_of(load_rules(path), vectors) is not first


def test_a_classifier_given_to_measure_is_kept_when_the_cases_change(learning):
    path = learning(cases_yaml(cases=[(t, "in_scope") for t in PRODUCT]))
    rules, vectors = load_rules(path), word_vectors()
    part = LearnedClassifier(labelled_requests(rules), vectors, rules.learning)
    measured = with_classifier(rules, vectors, part)
    os.utime(path.parent / "cases.yml", ns=(1, 1))
    assert learned_of(measured, vectors) is part


def test_rules_without_labelled_requests_learn_nothing():
    assert learned_of(load_rules(GARDEN), word_vectors()) is None


def test_an_unreadable_labelled_set_leaves_the_rules_to_decide(learning, caplog):
    rules = load_rules(learning("cases:\n  - {text: hello, expected: maybe}\n"))
    with caplog.at_level(logging.ERROR, logger="portal.scope.learned"):
        assert classify("weed the garden", rules=rules).rule == "gardening"
        assert classify("how do I add a user", rules=rules).verdict == "in_scope"
    assert "cannot learn from" in caplog.text and "case 1" in caplog.text


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"cases": "missing.yml"}, "no file of labelled requests"),
        ({"held_out": "later"}, "held_out is a list"),
        ({"out_of_scope": 2}, "probabilities"),
        ({"consultation": "often"}, "are numbers"),
        ({"overrule": 1}, "overrule"),
        ({"sure": 0}, "probabilities"),
        ({"depth": 3}, "expected only"),
    ],
)
def test_broken_learning_settings_are_refused(learning, settings, message):
    path = learning(cases_yaml(cases=[(PRODUCT[0], "in_scope")]))
    options = {"cases": "cases.yml", **settings}
    path.write_text(GARDEN.read_text("utf-8") + f"learning: {options}\n".replace("'", ""), "utf-8")
    with pytest.raises(RulesError, match=message):
        load_rules(path)


def test_the_shipped_rules_learn_from_the_shipped_cases_but_not_the_held_out():
    rules = load_rules()
    assert rules.cases.name == "scope_cases.yml"
    assert rules.learning["held_out"] == ["holdout_15"]
    learned = learned_of(rules, word_vectors())
    assert learned is not None and learned.size > 3600
    held_out = {
        case["text"]
        for name in rules.learning["held_out"]
        for case in load_cases(rules.cases, name)
    }
    assert not held_out & set(labelled_requests(rules).texts)
