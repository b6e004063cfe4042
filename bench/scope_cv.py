"""Cross-validated figures of the scope check on the labelled requests it learns from.

The labelled requests (`portal/scope_cases.yml`, every section but the held-out ones)
are split into folds; for each fold the classifier learns from the others (and the
rules' examples) and the whole check (phrase patterns, classifier, meaning vote) is run
on the fold, for every combination of settings asked (by default the rules' own). The
phrase patterns were written with most of these requests in view, so their share of the
figures is optimistic; the thresholds' effect on what the classifier decides is what
this measures.

    .venv/bin/python bench/scope_cv.py [--folds 5] [--out 0.7,0.8] [--consult 0.5,0.6]
        [--overrule 0.15,0.3] [--sure 0.8,0.9]
"""

import argparse
import itertools
import random
from collections import Counter

from portal.kb.vectors import word_vectors
from portal.scope import (
    Labelled,
    LearnedClassifier,
    classify,
    labelled_requests,
    load_rules,
    load_sections,
    with_classifier,
)

VERDICTS = ("in_scope", "out_of_scope", "consultation")
# Command-line option -> the rules file's `learning:` setting it varies (in grid order).
SETTINGS = {
    "out": "out_of_scope",
    "consult": "consultation",
    "overrule": "overrule",
    "sure": "sure",
}


def folds_of(cases: list[dict], folds: int, seed: int) -> list[list[dict]]:
    """Folds with each verdict spread evenly."""
    by_verdict: dict[str, list[dict]] = {}
    for case in cases:
        by_verdict.setdefault(case["expected"], []).append(case)
    split = [[] for _ in range(folds)]
    rng = random.Random(seed)
    for group in by_verdict.values():
        rng.shuffle(group)
        for n, case in enumerate(group):
            split[n % folds].append(case)
    return split


def figures(outcomes: Counter) -> str:
    def share(hit, total):
        return f"{hit / total:.3f}" if total else "  n/a"

    out, con = "out_of_scope", "consultation"
    given_out = sum(outcomes[(e, out)] for e in VERDICTS)
    given_con = sum(outcomes[(e, con)] for e in VERDICTS)
    expected = Counter(e for e, _ in outcomes.elements())
    return (
        f"{share(outcomes[(out, out)], given_out)} {share(outcomes[(out, out)], expected[out])}"
        f"  {share(outcomes[(con, con)], given_con)} {share(outcomes[(con, con)], expected[con])}"
        f"  {outcomes[('in_scope', out)]:6d} {outcomes[('in_scope', con)]:6d}"
        f" {outcomes[(con, out)]:6d}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    for name in SETTINGS:
        parser.add_argument(f"--{name}", help="comma-separated values (default: the rules')")
    parser.add_argument("--strength", type=float, default=None, help="instead of the rules'")
    parser.add_argument(
        "--sections", default="", help="report these sections apart (comma-separated)"
    )
    args = parser.parse_args()
    rules, vectors = load_rules(), word_vectors()
    own = {key: str(rules.learning[name]) for key, name in SETTINGS.items()}
    values = {key: (getattr(args, key) or own[key]).split(",") for key in SETTINGS}
    held_out = set(rules.learning["held_out"])
    cases = [
        dict(case, section=name)
        for name, section in load_sections(rules.cases).items()
        if name not in held_out
        for case in section
    ]
    everything = labelled_requests(rules)
    grid = [tuple(map(float, point)) for point in itertools.product(*values.values())]
    apart = set(filter(None, args.sections.split(",")))
    outcomes = {pair: Counter() for pair in grid}
    outcomes_apart = {pair: Counter() for pair in grid}
    for fold in folds_of(cases, args.folds, args.seed):
        left_out = {case["text"] for case in fold}
        kept = [
            (t, v)
            for t, v in zip(everything.texts, everything.verdicts, strict=True)
            if t not in left_out
        ]
        labelled = Labelled(tuple(t for t, _ in kept), tuple(v for _, v in kept))
        for point in grid:
            out, consult, overrule, sure = point
            settings = {**rules.learning, "out_of_scope": out, "consultation": consult}
            settings.update(overrule=overrule, sure=sure)
            settings["strength"] = args.strength or settings["strength"]
            if point == grid[0]:
                learned = LearnedClassifier(labelled, vectors, settings)
            learned.settings = settings
            measured = with_classifier(rules, vectors, learned)
            for case in fold:
                got = classify(
                    case["text"],
                    case.get("lang"),
                    case.get("tier"),
                    bool(case.get("special")),
                    measured,
                    vectors=vectors,
                ).verdict
                outcomes[point][(case["expected"], got)] += 1
                if case["section"] in apart:
                    outcomes_apart[point][(case["expected"], got)] += 1
    print(f"{len(cases)} labelled requests, {args.folds} folds")
    print("out   consult overrule sure ", end="")
    print("  out: P     R    cons: P     R   in->out in->con con->out")
    for (out, consult, overrule, sure), counted in outcomes.items():
        print(f"{out:<5} {consult:<7} {overrule:<8} {sure:<5}  {figures(counted)}")
    if apart:
        print(f"of which {', '.join(sorted(apart))}:")
        for (out, consult, overrule, sure), counted in outcomes_apart.items():
            print(f"{out:<5} {consult:<7} {overrule:<8} {sure:<5}  {figures(counted)}")


if __name__ == "__main__":
    main()
