"""Spelling: the indexed words closest to a word the articles lack.

The word list is a sorted Python list; Whoosh's Levenshtein automaton walks it by
binary search, visiting only the stretches that can hold a match. Pure: no Flask.
"""

from bisect import bisect_left

from whoosh.automata.fsa import find_all_matches
from whoosh.automata.lev import levenshtein_automaton
from whoosh.support.levenshtein import distance

# Misspellings rarely touch the first letter; keeping it makes the walk short.
SHARED_PREFIX = 1


def within(sorted_words: list[str], word: str, maxdist: int) -> list[str]:
    """Words of the list at most `maxdist` edits from `word`, sharing its first letter."""

    def first_at_or_after(key: str) -> str | None:
        at = bisect_left(sorted_words, key)
        return sorted_words[at] if at < len(sorted_words) else None

    dfa = levenshtein_automaton(word, maxdist, SHARED_PREFIX).to_dfa()
    return [w for w in find_all_matches(dfa, first_at_or_after) if w != word]


def nearest(sorted_words: list[str], word: str, popularity) -> str | None:
    """The listed word closest to `word` (fewest edits, then most popular), within two."""
    for maxdist in (1, 2):
        candidates = [w for w in within(sorted_words, word, maxdist) if popularity(w) > 0]
        if candidates:
            return min(candidates, key=lambda w: (distance(w, word), -popularity(w), w))
    return None
