import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from portal.kb.index import WhooshSearchIndex
from portal.kb.indexing import build_index, current_generation, update_changed
from portal.kb.synonyms import load_synonyms

DATA = Path(__file__).parent.parent / "data" / "articles"


@pytest.fixture
def kb(tmp_path):
    articles = tmp_path / "articles"
    shutil.copytree(DATA, articles)
    index_dir = tmp_path / "index"
    report = build_index(articles, index_dir)
    assert report.problems == [] and report.skipped_drafts == 1
    return (
        articles,
        index_dir,
        WhooshSearchIndex(index_dir, load_synonyms(articles / "_synonyms.yml")),
    )


def slugs(results):
    return [h.slug for h in results.hits]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("обращения", "kak-podat-obrashchenie"),  # the article says "обращение"
        ("отправить", "kak-podat-obrashchenie"),  # the article says "отправка"
        ("сервера", "ustanovka-na-server"),
        ("елочные", "vosstanovlenie-parolya"),  # ё = е
        ("filed requests", "how-to-file-a-request"),
        ("воронка сделка", "sdelki-v-crm"),
    ],
)
def test_word_forms_find_the_article(kb, query, expected):
    assert slugs(kb[2].search(query))[0] == expected


def test_a_typo_gets_a_suggestion_and_still_finds(kb):
    results = kb[2].search("забыл пароьл")
    assert results.suggestion == "забыл пароль"
    assert slugs(results)[0] == "vosstanovlenie-parolya"


def test_synonyms_apply_at_query_time(kb):
    assert "sdelki-v-crm" in slugs(kb[2].search("црм"))
    assert slugs(kb[2].search("2fa", lang="en")) == ["two-factor-authentication"]
    assert "sdelki-v-crm" in slugs(kb[2].search("2fa", lang="ru"))


def test_title_outranks_body(kb):
    # "сервер" is in the title of one article and the body of another.
    assert slugs(kb[2].search("сервер"))[0] == "ustanovka-na-server"


def test_filters_and_pages(kb):
    index = kb[2]
    assert {h.lang for h in index.search("request обращение", lang="en").hits} == {"en"}
    assert {h.category for h in index.search("сделки обращение", category="crm").hits} == {"crm"}
    first = index.search("обращение сервер пароль сделка", per_page=2, page=1)
    second = index.search("обращение сервер пароль сделка", per_page=2, page=2)
    assert first.total == second.total >= 3
    assert not set(slugs(first)) & set(slugs(second))


def test_drafts_are_not_served(kb):
    assert kb[2].article("chernovik-pro-tarify") is None
    assert kb[2].search("тарифы").total == 0


def test_the_last_word_is_a_prefix_while_typing(kb):
    assert slugs(kb[2].suggest("сдел")) == ["sdelki-v-crm"]
    assert slugs(kb[2].suggest("two-fac")) == ["two-factor-authentication"]
    assert slugs(kb[2].suggest("восстановление паро"))[0] == "vosstanovlenie-parolya"
    assert kb[2].search("паро").suggestion == "пароль"  # a full search corrects instead


def test_snippets_mark_the_matched_words(kb):
    hit = kb[2].search("пароль").hits[0]
    matched = [text for text, is_match in hit.snippet.parts() if is_match]
    assert matched and all(t.lower().startswith("парол") for t in matched)


BAD_QUERIES = [
    "",
    "   ",
    "!!!",
    "?*",
    '"',
    '"unbalanced',
    "AND OR NOT",
    "NOT",
    "*",
    "title:",
    "a" * 10_000,
    "обращение " * 2_000,
    "\x00\x01\x1f",
    "mixed скрипт 混合 ✓ 🙂",
    "((((",
    "-",
    "OR",
    "a:b:c",
    "\u202e\u200b",
    "%00",
    "<script>alert(1)</script>",
]


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_any_query_gets_results_or_nothing_never_an_error(kb, query):
    for run in (kb[2].search, kb[2].suggest):
        results = run(query)
        assert results.total >= 0


def test_translations_and_related(kb):
    index = kb[2]
    article = index.article("kak-podat-obrashchenie")
    assert [a.slug for a in index.translations(article)] == ["how-to-file-a-request"]
    assert all(a.lang == "ru" for a in index.related(article))


def test_changed_updates_only_changed_articles(kb):
    articles, index_dir, index = kb
    generation = current_generation(index_dir)
    path = articles / "support" / "server.ru.md"
    path.write_text(path.read_text("utf-8").replace("не входит", "не входит. Упомянем гипервизор"))
    (articles / "crm" / "security.en.md").unlink()
    report = update_changed(articles, index_dir)
    assert (report.indexed, report.removed, report.unchanged) == (1, 1, 4)
    assert current_generation(index_dir) == generation  # updated in place, no rebuild
    index.REFRESH_SECONDS = 0
    assert slugs(index.search("гипервизор")) == ["ustanovka-na-server"]
    assert index.article("two-factor-authentication") is None
    assert update_changed(articles, index_dir).indexed == 0


def test_a_reader_keeps_working_while_the_index_is_swapped(kb):
    articles, index_dir, index = kb
    errors, counts = [], []
    stop = threading.Event()

    def read():
        while not stop.is_set():
            try:
                counts.append(index.search("обращение").total)
            except Exception as exc:  # noqa: BLE001 - any failure fails the test
                errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(5):
            build_index(articles, index_dir)
    finally:
        stop.set()
        reader.join()
    assert errors == []
    assert counts and all(c == counts[0] for c in counts)
    assert len(list(index_dir.glob("gen-*"))) <= 2


def _write_many(root: Path, n: int) -> None:
    folder = root / "bulk"
    folder.mkdir()
    for i in range(n):
        (folder / f"a{i}.ru.md").write_text(
            f"---\ntitle: Статья {i}\nslug: bulk-{i}\nlang: ru\nsummary: Про обращение {i}.\n"
            f"updated: 2026-01-01\n---\n" + ("Обращение в поддержку и сервер. " * 80),
            encoding="utf-8",
        )


def test_a_build_killed_midway_leaves_the_served_index_intact(kb, tmp_path):
    articles, index_dir, index = kb
    before = current_generation(index_dir)
    _write_many(articles, 1500)
    env = {
        **os.environ,
        "PORTAL_ARTICLES_DIR": str(articles),
        "PORTAL_INDEX_DIR": str(index_dir),
        "PORTAL_INSTANCE_DIR": str(tmp_path / "instance"),
        "PORTAL_SECRET_KEY": "x",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "index", "--procs", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not list(index_dir.glob("*.building")) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert current_generation(index_dir) == before
    index.REFRESH_SECONDS = 0
    assert index.search("пароль").total == 1
    # The next build clears the leftovers and serves everything.
    build_index(articles, index_dir)
    assert not list(index_dir.glob("*.building"))
    assert index.search("обращение").total > 1000


def test_an_index_of_an_older_schema_is_rebuilt_not_reused(kb):
    articles, index_dir, index = kb
    (current_generation(index_dir) / "portal-schema-version").write_text("0")
    assert current_generation(index_dir) is None
    report = update_changed(articles, index_dir)
    assert report.full and report.indexed == 6
    index.REFRESH_SECONDS = 0
    assert slugs(index.search("сервера"))[0] == "ustanovka-na-server"
