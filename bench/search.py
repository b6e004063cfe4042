"""`portal bench`: index build time and search/suggest latency on synthetic knowledge bases.

Articles are generated with a Zipf-like word distribution over the real
vocabulary of the shipped articles plus a long tail of made-up words, so terms
have realistic document frequencies (a tiny vocabulary would make every term
hit every article and measure nothing real).
"""

import random
import re
import resource
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

from portal.app import create_app
from portal.config import PROJECT_ROOT
from portal.kb.articles import load_articles
from portal.kb.indexing import build_index

CATEGORIES = [
    "crm",
    "tasks",
    "telephony",
    "mail",
    "users",
    "billing",
    "security",
    "backup",
    "mobile",
    "support",
]
_SYLLABLES = {
    "ru": ("ка", "ро", "ли", "на", "те", "по", "ва", "ми", "ст", "ре", "ко", "ни", "да", "ло"),
    "en": ("an", "er", "in", "on", "at", "re", "st", "ti", "ca", "co", "de", "ma", "pro", "ver"),
}
_CYRILLIC = re.compile(r"[а-яё]")


@dataclass
class Vocabulary:
    words: list[str]
    cum_weights: list[float]

    def sample(self, rng: random.Random, k: int) -> list[str]:
        return rng.choices(self.words, cum_weights=self.cum_weights, k=k)


def vocabularies(extra_words: int = 15_000, seed: int = 7) -> dict[str, Vocabulary]:
    """Per language: real words by frequency, then made-up ones, Zipf-weighted by rank."""
    rng = random.Random(seed)
    counts = {"ru": Counter(), "en": Counter()}
    for article in load_articles(PROJECT_ROOT / "articles").articles:
        for word in re.findall(
            r"[^\W\d_]{2,}", f"{article.title} {article.summary} {article.body}"
        ):
            word = word.lower()
            counts["ru" if _CYRILLIC.search(word) else "en"][word] += 1
    result = {}
    for lang, counter in counts.items():
        words = [w for w, _ in counter.most_common()]
        seen = set(words)
        while len(words) < len(counter) + extra_words:
            word = "".join(rng.choices(_SYLLABLES[lang], k=rng.randint(2, 5)))
            if word not in seen:
                seen.add(word)
                words.append(word)
        weights = [1 / (rank + 1) ** 1.05 for rank in range(len(words))]
        result[lang] = Vocabulary(words, list(accumulate(weights)))
    return result


def generate(root: Path, n: int, vocab: dict[str, Vocabulary], seed: int = 11) -> None:
    """Write `n` synthetic articles under `root`."""
    rng = random.Random(seed)
    for category in CATEGORIES:
        (root / category).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        lang = "ru" if i % 2 == 0 else "en"
        v = vocab[lang]
        title = " ".join(v.sample(rng, rng.randint(3, 8))).capitalize()
        tags = ", ".join(v.sample(rng, rng.randint(2, 5)))
        summary = " ".join(v.sample(rng, rng.randint(10, 25))).capitalize() + "."
        paragraphs = []
        for _ in range(rng.randint(3, 8)):
            paragraphs.append(" ".join(v.sample(rng, rng.randint(30, 90))).capitalize() + ".")
        category = CATEGORIES[i % len(CATEGORIES)]
        (root / category / f"a{i}.{lang}.md").write_text(
            f'---\ntitle: "{title}"\nslug: synthetic-{i}\nlang: {lang}\ntags: [{tags}]\n'
            f'summary: "{summary}"\nupdated: 2026-01-01\n---\n## {title}\n\n'
            + "\n\n".join(paragraphs),
            encoding="utf-8",
        )


def queries(vocab: dict[str, Vocabulary], n: int, seed: int = 3) -> tuple[list[str], list[str]]:
    """(search queries, suggest queries): 1-5 words; while typing the last word is often cut."""
    rng = random.Random(seed)
    searches, suggests = [], []
    for i in range(n):
        v = vocab["ru" if i % 2 == 0 else "en"]
        # Skip the very top ranks: people type content words, not "и"/"the".
        words = [w for w in v.sample(rng, 12) if len(w) > 3][: rng.randint(1, 5)] or ["поддержка"]
        if rng.random() < 0.1:  # a typo
            w = words[-1]
            j = rng.randrange(1, len(w))
            words[-1] = w[: j - 1] + w[j] + w[j - 1] + w[j + 1 :]
        searches.append(" ".join(words))
        typed = list(words)
        if rng.random() < 0.7:
            last = typed[-1]
            typed[-1] = last[: max(2, int(len(last) * rng.uniform(0.4, 0.9)))]
        suggests.append(" ".join(typed))
    return searches, suggests


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _time_requests(client, url: str, qs: list[str]) -> list[float]:
    times = []
    for q in qs:
        started = time.perf_counter()
        response = client.get(url, query_string={"q": q})
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code} for {q!r}")
    return times


def run(sizes: list[int], n_queries: int, procs: int, echo=print) -> list[dict]:
    """Build and query each size; return one row per measurement."""
    vocab = vocabularies()
    search_qs, suggest_qs = queries(vocab, n_queries)
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="portal-bench-") as tmp:
            tmp = Path(tmp)
            articles, index_dir = tmp / "articles", tmp / "index"
            generate(articles, size, vocab)
            report = build_index(articles, index_dir, procs=procs)
            echo(f"{size} articles: built in {report.seconds:.1f} s")
            app = create_app(
                {
                    "PORTAL_ARTICLES_DIR": str(articles),
                    "PORTAL_INDEX_DIR": str(index_dir),
                    "PORTAL_INSTANCE_DIR": str(tmp / "instance"),
                    "PORTAL_DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
                    "PORTAL_SECRET_KEY": "bench",
                    "PORTAL_RATE_LIMITS": False,
                }
            )
            client = app.test_client()
            client.get("/api/search", query_string={"q": "warm up"})
            measured = {
                "search": _time_requests(client, "/api/search", search_qs),
                "suggest": _time_requests(client, "/api/suggest", suggest_qs),
                "suggest (repeat)": _time_requests(client, "/api/suggest", suggest_qs),
            }
            for name, times in measured.items():
                rows.append(
                    {
                        "articles": size,
                        "build_s": report.seconds,
                        "index_mb": _dir_size(index_dir) / 1e6,
                        "endpoint": name,
                        "queries": len(times),
                        "p50_ms": statistics.median(times),
                        "p99_ms": _percentile(times, 99),
                        "max_ms": max(times),
                        "qps": len(times) / (sum(times) / 1000),
                        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                    }
                )
    return rows


def table(rows: list[dict]) -> str:
    """The rows as a Markdown table (README-ready)."""
    head = (
        "| articles | build s | index MB | endpoint | queries | p50 ms | p99 ms | max ms | req/s "
        "| peak RSS MB |"
    )
    lines = [head, "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['articles']:,} | {r['build_s']:.1f} | {r['index_mb']:.1f} | {r['endpoint']} "
            f"| {r['queries']} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.1f} "
            f"| {r['qps']:.0f} | {r['rss_mb']:.0f} |"
        )
    return "\n".join(lines)
