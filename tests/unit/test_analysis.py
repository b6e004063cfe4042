import pytest

from portal.kb.analysis import clean, root, terms


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("обращения", "обращение"),
        ("сервера", "сервер"),
        ("пароли", "пароль"),
        ("ёлка", "елка"),
        ("Installing", "installation"),
        ("servers", "server"),
    ],
)
def test_word_forms_share_a_stem(a, b):
    assert terms(a) == terms(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [("отправить", "отправка"), ("установить", "устанавливать"), ("настройка", "настраивать")],
)
def test_derived_russian_words_share_a_root(a, b):
    assert terms(a) != terms(b)
    assert [root(t) for t in terms(a)] == [root(t) for t in terms(b)]


def test_each_script_gets_its_own_stemmer():
    assert terms("CRM сделки emails") == ["crm", "сделк", "email"]


def test_stop_words_of_both_languages_are_dropped():
    assert terms("как это the and настроить") == terms("настроить")


def test_clean_removes_control_characters_and_extra_space():
    assert clean("a\x00b\x1f  c\n\td") == "a b c d"
