"""How the scope check does on labelled requests: confusion matrix and figures."""

from dataclasses import dataclass

from portal.scope.classifier import classify
from portal.scope.rules import RULE_VERDICTS, VERDICTS, Rules, load_rules


@dataclass
class Evaluation:
    """How the classifier does on labelled cases: confusion matrix and figures."""

    matrix: dict[str, dict[str, int]]  # expected -> got -> count
    misclassified: list[dict]

    @property
    def total(self) -> int:
        return sum(sum(row.values()) for row in self.matrix.values())

    @property
    def correct(self) -> int:
        return sum(self.matrix[v][v] for v in VERDICTS)

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.total if self.total else None

    def precision(self, verdict: str) -> float | None:
        """Share of cases given `verdict` that expected it (None if none were given it)."""
        given = sum(self.matrix[e][verdict] for e in VERDICTS)
        return self.matrix[verdict][verdict] / given if given else None

    def recall(self, verdict: str) -> float | None:
        """Share of cases expecting `verdict` that got it (None if none expected it)."""
        expected = sum(self.matrix[verdict].values())
        return self.matrix[verdict][verdict] / expected if expected else None

    def table(self) -> str:
        """A printable confusion matrix, the figures and the misclassified cases."""

        def fig(value):
            return "n/a" if value is None else f"{value:.3f}"

        width = max(map(len, VERDICTS)) + 2
        lines = ["expected \\ got".ljust(width) + "".join(v.rjust(width) for v in VERDICTS)]
        for e in VERDICTS:
            lines.append(
                e.ljust(width) + "".join(str(self.matrix[e][g]).rjust(width) for g in VERDICTS)
            )
        lines += ["", f"accuracy {fig(self.accuracy)} ({self.correct}/{self.total})"]
        for v in RULE_VERDICTS:
            lines.append(f"{v}: precision {fig(self.precision(v))}, recall {fig(self.recall(v))}")
        if self.misclassified:
            lines += ["", "misclassified:"]
            for m in self.misclassified:
                who = m.get("tier") or "default"
                who += ", special" if m.get("special") else ""
                lines.append(
                    f"  [{who}] {m['text']!r}: expected {m['expected']}, "
                    f"got {m['got']} ({m['rule'] or 'no rule'})"
                    + (f" near {m['example']!r}" if m.get("example") else "")
                )
        return "\n".join(lines)


def evaluate(cases: list[dict], rules: Rules | None = None) -> Evaluation:
    """Classify every labelled case and count the outcomes."""
    rules = rules or load_rules()
    matrix = {e: dict.fromkeys(VERDICTS, 0) for e in VERDICTS}
    wrong = []
    for case in cases:
        result = classify(
            case["text"], case.get("lang"), case.get("tier"), bool(case.get("special")), rules
        )
        matrix[case["expected"]][result.verdict] += 1
        if result.verdict != case["expected"]:
            wrong.append(
                {**case, "got": result.verdict, "rule": result.rule, "example": result.example}
            )
    return Evaluation(matrix, wrong)
