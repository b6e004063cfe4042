"""Ranking whole articles by fused evidence (portal/kb/ranking.py), with the real word vectors."""

import numpy as np
import pytest

from portal.kb.analysis import terms
from portal.kb.ranking import Learned, RankDoc, Ranker, query_language
from portal.kb.vectors import word_vectors

DOCS = [
    RankDoc(
        slug="notifications",
        lang="ru",
        category="users",
        title="Настройки уведомлений",
        questions=["не приходят уведомления на почту", "слишком много писем с портала"],
        body="Уведомления приходят по e-mail и push.\n- Откройте профиль\n- Выберите каналы",
        translation_of="notifications",
    ),
    RankDoc(
        slug="telephony",
        lang="ru",
        category="telephony",
        title="Подключение телефонии и SIP",
        questions=["как подключить телефонию", "звонки не проходят через АТС"],
        body="Подключите АТС по SIP или арендуйте номер.",
    ),
    RankDoc(
        slug="deals",
        lang="ru",
        category="crm",
        title="Сделки и стадии воронки",
        body="Сделка двигается по стадиям воронки продаж.",
    ),
    RankDoc(
        slug="notifications-en",
        lang="en",
        category="users",
        title="Notification settings",
        questions=["I get no e-mail notifications"],
        body="Notifications come by e-mail and push.",
        translation_of="notifications",
    ),
]


@pytest.fixture(scope="module")
def vectors():
    return word_vectors()


@pytest.fixture(scope="module")
def ranker(vectors):
    return Ranker.build(DOCS, vectors)


def best(ranker, vectors, text, lang=None, **kwargs):
    scores = ranker.score(text, dict.fromkeys(terms(text), 1.0), vectors, lang, **kwargs)
    return [ranker.slugs[p] for p in scores.ranked()]


def test_the_article_that_answers_comes_first(ranker, vectors):
    assert best(ranker, vectors, "Не приходят письма с уведомлениями")[0] == "notifications"
    assert best(ranker, vectors, "как подключить телефонию", "ru")[0] == "telephony"
    assert best(ranker, vectors, "сделка застряла на стадии")[0] == "deals"


def test_typos_and_half_typed_words_still_find_it(ranker, vectors):
    assert best(ranker, vectors, "подключение телефонии сип", "ru")[0] == "telephony"
    assert best(ranker, vectors, "уведомлния не приходят", "ru", by_meaning=5)[0] == (
        "notifications"
    )


def test_meaning_alone_finds_an_article_only_when_asked_to(ranker, vectors):
    # No word in common with any article: found by meaning only for suggestions.
    question = "оповещения перестали доходить"
    assert best(ranker, vectors, question, "ru") == []
    assert best(ranker, vectors, question, "ru", by_meaning=5)[0] == "notifications"


def test_nonsense_finds_nothing(ranker, vectors):
    assert best(ranker, vectors, "xyzzy", by_meaning=5) == []
    assert best(ranker, vectors, "asdf qwer", by_meaning=5) == []


def test_a_language_filter_keeps_other_articles_out(ranker, vectors):
    allowed = ranker.langs == "en"
    found = best(ranker, vectors, "notifications e-mail", allowed=allowed, by_meaning=5)
    assert found == ["notifications-en"]


def test_question_language_follows_the_filter_or_the_script():
    assert query_language("почта", None) == "ru"
    assert query_language("mail", None) == "en"
    assert query_language("mail", "ru") == "ru"


def test_saved_data_loads_back_the_same(tmp_path, ranker, vectors):
    ranker.save(tmp_path)
    loaded = Ranker.load(tmp_path)
    text = "не приходят уведомления"
    stems = dict.fromkeys(terms(text), 1.0)
    assert loaded.slugs == ranker.slugs
    np.testing.assert_allclose(
        loaded.score(text, stems, vectors).fused, ranker.score(text, stems, vectors).fused
    )


def test_updates_replace_and_remove_articles(vectors):
    ranker = Ranker.build(DOCS, vectors)
    changed = RankDoc(
        slug="deals",
        lang="ru",
        category="crm",
        title="Импорт контактов из Excel",
        body="Загрузите CSV-файл с контактами.",
    )
    ranker.upsert([changed], vectors)
    assert best(ranker, vectors, "импорт контактов из excel")[0] == "deals"
    assert "deals" not in best(ranker, vectors, "стадии воронки")
    ranker.remove(["telephony"])
    assert ranker.slugs == ["notifications", "notifications-en", "deals"]
    assert best(ranker, vectors, "как подключить телефонию", "ru") == []
    # Lines follow their articles through removals.
    assert set(ranker.line_owner.tolist()) == {0, 1, 2}


def test_phrases_readers_taught_lift_their_article(ranker, vectors):
    question = "портал молчит, ни одного письма"
    before = best(ranker, vectors, question, "ru", by_meaning=5)
    learned = Learned([("deals", "ru", "портал молчит ни одного письма")], vectors)
    after = best(ranker, vectors, question, "ru", by_meaning=5, learned=learned)
    assert after[0] == "deals" and (not before or before[0] != "deals")


def test_misspelt_words_are_corrected_to_words_the_articles_hold(vectors):
    ranker = Ranker.build(DOCS, vectors)
    assert ranker.correction("уведамления") == "уведомления"
    assert ranker.correction("телефонею") == "телефонию"
    assert ranker.correction("zzzzzz") is None
    ranker.remove(["telephony"])
    # Its words stay listed but no article holds them any more.
    assert ranker.correction("телефонею") is None


def test_a_typed_prefix_expands_to_the_stems_most_articles_hold(vectors):
    ranker = Ranker.build(DOCS, vectors)
    assert ranker.prefixed("уведомл", 5) == ["уведомлен"]
    assert ranker.prefixed("notif", 5) == ["notif"]
    assert ranker.prefixed("ъъъ", 5) == []
    ranker.remove(["deals"])
    assert ranker.prefixed("сдел", 5) == []
