from pathlib import Path

from portal.config import PROJECT_ROOT
from portal.kb.articles import load_articles, load_categories, parse_article

GOOD = """---
title: Заголовок
slug: zagolovok
lang: ru
tags: [a, b]
summary: Кратко.
updated: 2026-01-02
---
Текст [ссылка](other.ru.md).
"""


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_parses_front_matter_and_body(tmp_path):
    article = parse_article(write(tmp_path, "support/a.ru.md", GOOD), tmp_path)
    assert (article.slug, article.lang, article.category) == ("zagolovok", "ru", "support")
    assert article.tags == ["a", "b"]
    assert article.body.startswith("Текст")
    assert article.body_line == 9


def test_problems_name_the_file_and_line_and_the_rest_still_loads(tmp_path):
    write(tmp_path, "support/good.ru.md", GOOD.replace("(other.ru.md)", "(good2.ru.md)"))
    write(tmp_path, "support/good2.ru.md", GOOD.replace("zagolovok", "drugoy"))
    write(tmp_path, "support/bad-yaml.ru.md", GOOD.replace("summary: Кратко.", "summary: [oops"))
    write(tmp_path, "support/zz-dup.ru.md", GOOD)
    write(
        tmp_path,
        "support/lang.ru.md",
        GOOD.replace("lang: ru", "lang: de").replace("zagolovok", "x"),
    )
    write(tmp_path, "support/nofront.ru.md", "Просто текст")
    result = load_articles(tmp_path)
    assert sorted(a.slug for a in result.articles) == ["drugoy", "zagolovok"]
    problems = {(p.path, p.line): p.message for p in result.problems}
    assert ("support/bad-yaml.ru.md", 7) in problems or ("support/bad-yaml.ru.md", 8) in problems
    assert "duplicate slug" in problems[("support/zz-dup.ru.md", 3)]
    assert "lang" in problems[("support/lang.ru.md", 4)]
    assert "front matter" in problems[("support/nofront.ru.md", 1)]
    broken = [p for p in result.problems if "broken link" in p.message]
    assert [(p.path, p.line) for p in broken] == [("support/good2.ru.md", 9)]


def test_the_shipped_knowledge_base_parses_cleanly():
    result = load_articles(PROJECT_ROOT / "articles")
    assert result.problems == []
    assert len(result.articles) >= 40
    langs = {a.lang for a in result.articles}
    assert langs == {"ru", "en"}


def test_every_shipped_translation_has_its_pair():
    result = load_articles(PROJECT_ROOT / "articles")
    pairs: dict[str, set[str]] = {}
    for a in result.articles:
        if a.translation_of:
            pairs.setdefault(a.translation_of, set()).add(a.lang)
    assert pairs
    assert all(langs == {"ru", "en"} for langs in pairs.values()), pairs


def test_every_shipped_folder_has_titles_in_both_languages():
    categories = load_categories(PROJECT_ROOT / "articles")
    for name, info in categories.items():
        assert info["title"]["ru"] and info["title"]["en"], name


def with_questions(block: str) -> str:
    text = GOOD.replace("[ссылка](other.ru.md)", "ссылка")
    return text.replace("updated: 2026-01-02\n", f"updated: 2026-01-02\n{block}\n")


def test_questions_are_read_trimmed_and_hashed(tmp_path):
    text = with_questions("questions:\n-   не приходят письма  \n- как  подключить\n  почту?")
    article = parse_article(write(tmp_path, "support/a.ru.md", text), tmp_path)
    assert article.questions == ["не приходят письма", "как подключить почту?"]
    assert article.problems == []
    plain = parse_article(write(tmp_path, "support/b.ru.md", GOOD), tmp_path)
    assert plain.questions == [] and plain.content_hash != article.content_hash


def test_questions_of_the_wrong_type_stop_the_file_with_its_line(tmp_path):
    write(tmp_path, "support/a.ru.md", with_questions("questions: не приходят письма"))
    result = load_articles(tmp_path)
    assert result.articles == []
    assert [(p.line, p.message) for p in result.problems] == [
        (8, "questions must be a list of strings")
    ]


def test_bad_and_duplicate_questions_are_dropped_and_reported(tmp_path):
    block = (
        "questions:\n- Письма не доходят\n- ок\n- как сделать: вот так\n"
        f"- {'а' * 301}\n- письма НЕ доходят\n- [где сделки]\n- 42"
    )
    write(tmp_path, "support/a.ru.md", with_questions(block))
    result = load_articles(tmp_path)
    assert result.articles[0].questions == ["Письма не доходят"]
    problems = [(p.path, p.line, p.message) for p in result.problems]
    assert problems == [
        ("support/a.ru.md", 10, "question 'ок' must be 3-300 characters long"),
        ("support/a.ru.md", 11, "question is not a line of text: put it in quotes"),
        ("support/a.ru.md", 12, f"question {'а' * 301!r} must be 3-300 characters long"),
        ("support/a.ru.md", 13, "duplicate question 'письма НЕ доходят' dropped"),
        ("support/a.ru.md", 14, "question is not a line of text: put it in quotes"),
        ("support/a.ru.md", 15, "question is not a line of text: put it in quotes"),
    ]


def test_no_more_than_forty_questions(tmp_path):
    block = "questions: [" + ", ".join(f"вопрос номер {i}" for i in range(45)) + "]"
    write(tmp_path, "support/a.ru.md", with_questions(block))
    result = load_articles(tmp_path)
    assert len(result.articles[0].questions) == 40
    assert [(p.line, p.message) for p in result.problems] == [
        (8, "more than 40 questions: the rest are dropped")
    ]


def test_every_markdown_file_is_indexed_or_reported_with_its_path_and_why(tmp_path):
    write(tmp_path, "support/a.ru.md", GOOD)
    write(tmp_path, "support/deeper/b.ru.md", GOOD.replace("zagolovok", "b"))
    write(tmp_path, "support/no-language.md", GOOD.replace("zagolovok", "c"))
    write(tmp_path, "loose.ru.md", GOOD.replace("zagolovok", "d"))
    write(tmp_path, "support/_notes.md", "notes")
    write(tmp_path, "support/.hidden.ru.md", "an editor's own file")
    loaded = load_articles(tmp_path)
    assert [a.path for a in loaded.articles] == ["support/a.ru.md"]
    reasons = {p.path: p.message for p in loaded.problems if "not indexed" in p.message}
    assert set(reasons) == {
        "support/deeper/b.ru.md",
        "support/no-language.md",
        "loose.ru.md",
        "support/_notes.md",
    }
    assert "one folder deep" in reasons["support/deeper/b.ru.md"]
    assert ".ru.md" in reasons["support/no-language.md"]
    assert "category folder" in reasons["loose.ru.md"]
