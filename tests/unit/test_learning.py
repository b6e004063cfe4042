"""Learned phrases without Flask: cleaning, refusing personal data, counting and limits."""

import datetime as dt

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from portal.kb import learning
from portal.kb.analysis import language_of
from portal.kb.models import LearnedPhrase, LearnedSighting

SECRET = "unit-secret"
DEFAULT_RULES = learning.Rules()
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    tables = [LearnedPhrase.__table__, LearnedSighting.__table__]
    LearnedPhrase.metadata.create_all(engine, tables=tables)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("  Как  подключить ПОЧТОВЫЙ ящик? ", "как подключить почтовый ящик"),
        ("«Ёлка» не работает!!!", "елка» не работает"),
        ("Error 0x80070005 in CRM", "error 0x80070005 in crm"),
        ("версия 22.100.0", "версия 22.100.0"),
        ("x" * 150 + " " + "y" * 150, "x" * 150),
        ("", None),
        ("!!!", None),
        ("12345", None),
        ("ok", None),
    ],
)
def test_phrases_are_lower_case_single_spaced_and_bounded(text, phrase):
    assert learning.normalise_phrase(text) == phrase


@pytest.mark.parametrize(
    "text",
    [
        "напишите на ivan.petrov@example.com",
        "телефон +7 (916) 123-45-67",
        "звоните 8 916 123 45 67",
        "внутренний 123-45-67",
        "заявка #1234",
        "заявка 2026-000123",
        "см. https://example.org/page",
        "www.example.com не открывается",
        "портал company.bitrix24.ru",
        "сайт магазин.рф",
    ],
)
def test_personal_data_is_refused(text):
    assert learning.has_personal_data(text)
    assert learning.normalise_phrase(text) is None


def test_ordinary_questions_are_not_mistaken_for_personal_data():
    for text in ("ошибка 0x80070005", "bitrix24 версия 24.100", "файл report.pdf", "срок 24 часа"):
        assert not learning.has_personal_data(text), text


def test_the_first_short_sentence_after_a_greeting():
    text = "Добрый день! Не приходят письма в CRM. Вчера всё работало."
    assert learning.first_sentence(text) == "Не приходят письма в CRM"
    assert learning.first_sentence("Hello.\nMail does not arrive") == "Mail does not arrive"
    assert learning.first_sentence("Слово " * 30) is None
    assert learning.deflection_phrases("Не приходят письма", "") == ["Не приходят письма"]


def test_the_language_is_the_phrases_script():
    assert language_of("почта crm", "en") == "ru"
    assert language_of("mail crm", "ru") == "en"
    assert language_of("24.100", "ru") == "ru"


def test_the_digest_is_keyed_and_reveals_no_session():
    digest = learning.sighting_digest(SECRET, "slug", "phrase", "visitor:abc")
    assert len(digest) == 64 and "abc" not in digest
    assert digest != learning.sighting_digest("other", "slug", "phrase", "visitor:abc")
    assert digest != learning.sighting_digest(SECRET, "slug", "phrase", "visitor:abd")


def teach(session, phrase, sources, slug="a", rules=DEFAULT_RULES, now=NOW):
    for source in sources:
        learning.record_evidence(session, SECRET, slug, "ru", [phrase], source, rules, now=now)
    session.commit()


def statuses(session, slug="a"):
    rows = session.scalars(select(LearnedPhrase).filter_by(article_slug=slug))
    return {row.phrase: (row.sessions, row.status) for row in rows}


def test_a_phrase_needs_enough_distinct_sources(session):
    teach(session, "почта не приходит", ["s1"] * 5 + ["s2"])
    assert statuses(session) == {"почта не приходит": (2, "candidate")}
    teach(session, "Почта  не приходит!", ["s3"])
    assert statuses(session) == {"почта не приходит": (3, "active")}
    assert learning.learned_phrases(session) == [("a", "ru", "почта не приходит")]


def test_the_best_supported_phrases_win_the_articles_places(session):
    rules = learning.Rules(min_sessions=1, max_per_article=2)
    teach(session, "один", ["s1"], rules=rules)
    teach(session, "два", ["s1", "s2"], rules=rules)
    teach(session, "три", ["s1", "s2", "s3"], rules=rules)
    assert statuses(session) == {
        "один": (1, "candidate"),
        "два": (2, "active"),
        "три": (3, "active"),
    }
    stamp = learning.learned_version(session)
    three = session.scalar(select(LearnedPhrase.id).filter_by(phrase="три"))
    assert learning.remove_phrase(session, "a", three, rules, now=NOW + dt.timedelta(seconds=1))
    session.commit()
    assert statuses(session)["один"] == (1, "active")
    assert learning.learned_version(session) != stamp
    teach(session, "три", ["s4", "s5"], rules=rules)
    assert statuses(session)["три"] == (3, "removed")
    assert not learning.remove_phrase(session, "a", three, rules)


def test_the_version_changes_only_with_the_active_set(session):
    empty = learning.learned_version(session)
    teach(session, "почта", ["s1", "s2"])
    assert learning.learned_version(session) == empty
    teach(session, "почта", ["s3"], now=NOW + dt.timedelta(seconds=1))
    assert learning.learned_version(session) != empty


def test_session_hashes_are_forgotten_after_90_days(session):
    teach(session, "почта", ["s1"])
    later = NOW + dt.timedelta(days=91)
    assert learning.purge_sightings(session, later) == 1
    teach(session, "другое", ["s2"], now=later)
    assert session.scalar(select(LearnedSighting.seen_at)) is not None
    assert len(session.scalars(select(LearnedSighting)).all()) == 1
