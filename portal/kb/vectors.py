"""Meaning for search: static word vectors that ship inside installed packages.

Two models, both loaded from files on disk, never downloaded:

- Russian: navec (the 250K-word news vectors inside the `natasha` wheel), looked up by the
  word's lemma from pymorphy3, so "отправить", "отправили" and "отправка" sit close;
- English (and any other text): WordLlama's 256-dimensional token embeddings (the
  `wordllama` wheel, MIT), pooled over the text's tokens.

A text becomes one unit vector per model; cosine similarity of a question and an article
is then a dot product. Both models are optional: without the packages (or with
`PORTAL_SEARCH_VECTORS=false`) search keeps its lexical signals alone.
"""

import importlib.util
import logging
import os
import re
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np
import pymorphy3
import wordllama
from navec import Navec
from safetensors import safe_open
from tokenizers import Tokenizer
from wordllama.inference import WordLlamaInference

from portal.kb.analysis import CYRILLIC, STOP_WORDS, fold

log = logging.getLogger(__name__)
# wordllama's import sets the root logger to INFO (logging.basicConfig); the host decides.
logging.getLogger().setLevel(logging.WARNING)
# The tokenizer's own threads would not survive the forked processes of an index build.
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

NAVEC_DIM = 300
WORDLLAMA_DIM = 256
# Token embeddings are averaged; past this many characters a text adds little but cost.
MAX_CHARS = 2000
_WORD = re.compile(r"[^\W\d_]+")


class WordVectors:
    """The loaded models and the functions that turn texts into unit vectors."""

    def __init__(self, navec=None, morph=None, wordllama=None):
        self._navec = navec
        self._morph = morph
        self._wordllama = wordllama
        self._lemma = lru_cache(maxsize=200_000)(self._lemma_uncached)
        self._vector = lru_cache(maxsize=100_000)(self._vector_uncached)

    @property
    def available(self) -> bool:
        return self._navec is not None or self._wordllama is not None

    def _lemma_uncached(self, word: str) -> str:
        # Guessing the lemma of a word the dictionary lacks is slow and rarely finds a
        # vector: such words are looked up as they are.
        if self._morph is None or not CYRILLIC.search(word) or not self._morph.word_is_known(word):
            return word
        return self._morph.parse(word)[0].normal_form.replace("ё", "е")

    def _vector_uncached(self, word: str) -> np.ndarray | None:
        # navec stores its vectors quantised: decoding one costs more than the lookup.
        lemma = self.lemma(word)
        vocab = self._navec.vocab
        key = lemma if lemma in vocab else word if word in vocab else None
        return None if key is None else np.asarray(self._navec[key], dtype=np.float32)

    def lemma(self, word: str) -> str:
        """The dictionary form of a folded Russian word (the word itself otherwise)."""
        return self._lemma(word)

    def navec(self, texts: list[str]) -> np.ndarray:
        """Mean of the Russian word vectors of each text, as unit rows."""
        out = np.zeros((len(texts), NAVEC_DIM), dtype=np.float32)
        if self._navec is None:
            return out
        for row, text in enumerate(texts):
            found = [
                vector
                for word in _WORD.findall(fold(text[:MAX_CHARS]))
                if word not in STOP_WORDS
                and len(word) > 1
                and (vector := self._vector(word)) is not None
            ]
            if found:
                vector = np.mean(found, axis=0)
                out[row] = vector / (np.linalg.norm(vector) or 1.0)
        return out

    def wordllama(self, texts: list[str]) -> np.ndarray:
        """Mean token embedding of each text, as unit rows."""
        if self._wordllama is None or not texts:
            return np.zeros((len(texts), WORDLLAMA_DIM), dtype=np.float32)
        clipped = [t[:MAX_CHARS] or " " for t in texts]
        # Texts are embedded in batches padded to their longest: similar lengths together.
        order = sorted(range(len(clipped)), key=lambda i: len(clipped[i]))
        out = np.empty((len(texts), WORDLLAMA_DIM), dtype=np.float32)
        out[order] = self._wordllama.embed([clipped[i] for i in order], norm=True)
        return out


_lock = threading.Lock()
_loaded: dict[bool, WordVectors] = {}


def word_vectors(enabled: bool = True) -> WordVectors:
    """The process's models, loaded once on first use (about 1.5 s and 150 MB)."""
    with _lock:
        if enabled not in _loaded:
            _loaded[enabled] = _load() if enabled else WordVectors()
        return _loaded[enabled]


def _load() -> WordVectors:
    navec = llama = None
    try:
        navec = Navec.load(str(_navec_file()))
    except (OSError, StopIteration) as exc:
        log.warning("Russian word vectors unavailable: %s", exc)
    try:
        llama = _load_wordllama()
    except OSError as exc:
        log.warning("English word vectors unavailable: %s", exc)
    return WordVectors(navec, pymorphy3.MorphAnalyzer(), llama)


def _navec_file() -> Path:
    """The navec archive inside the natasha wheel, found without importing natasha."""
    spec = importlib.util.find_spec("natasha")
    if spec is None or not spec.submodule_search_locations:
        raise OSError("the natasha package is not installed")
    folder = Path(next(iter(spec.submodule_search_locations))) / "data" / "emb"
    return next(folder.glob("navec_*.tar"))


def _load_wordllama() -> WordLlamaInference:
    """WordLlama from the files in its wheel (its own loader would look for a download)."""
    root = Path(wordllama.__file__).parent
    tokenizer = Tokenizer.from_file(str(root / "tokenizers" / "l2_supercat_tokenizer_config.json"))
    with safe_open(str(root / "weights" / "l2_supercat_256.safetensors"), framework="np") as f:
        embedding = f.get_tensor("embedding.weight")
    return WordLlamaInference(embedding, tokenizer)
