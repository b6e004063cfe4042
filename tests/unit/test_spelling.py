"""Nearest words for spelling suggestions (portal/kb/spelling.py)."""

from portal.kb.spelling import nearest, within

WORDS = sorted(["почта", "почти", "почтовый", "пароль", "телефон", "телефония"])


def test_words_within_the_distance_sharing_the_first_letter():
    assert within(WORDS, "пачта", 1) == ["почта"]
    assert set(within(WORDS, "телефонея", 2)) == {"телефон", "телефония"}
    assert within(WORDS, "бочта", 1) == []  # the first letter is kept
    assert within(WORDS, "почта", 1) == ["почти"]  # never the word itself


def test_the_nearest_word_prefers_fewer_edits_then_the_more_popular():
    popularity = {"почта": 5, "почти": 1}.get
    assert nearest(WORDS, "почтв", lambda w: popularity(w, 1)) == "почта"
    assert nearest(WORDS, "почтe", lambda w: popularity(w, 1)) == "почта"
    assert nearest(WORDS, "пароли", lambda w: 1) == "пароль"
    # A word no article holds any more is not offered.
    assert nearest(WORDS, "почтв", lambda w: 0 if w == "почта" else 1) == "почти"
    assert nearest(WORDS, "xyzzy", lambda w: 1) is None
