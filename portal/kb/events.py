"""What the knowledge base announces; analytics subscribes (the kb package imports none
of its subscribers)."""

from blinker import Namespace

_signals = Namespace()

searched = _signals.signal("kb-searched")
"""A reader searched: `query=`, `lang=` (None for any), `results=` (how many were found)."""

viewed = _signals.signal("kb-article-viewed")
"""An article was read: `slug=`, `lang=`, and `from_query=`, the search that led to it."""
