"""The ranking data on disk: two files beside each Whoosh generation (numpy arrays and JSON),
replaced atomically, data first, so that a reader never pairs new metadata with old data."""

import json
import os
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from portal.kb.features import LETTER_SPACE, Vocabulary
from portal.kb.ranking import Ranker

DATA_FILE = "ranking.npz"
META_FILE = "ranking.json"
FORMAT = 4


def save(ranker: Ranker, folder: Path) -> None:
    """Write the data into an index generation, replacing what was there atomically."""
    folder = Path(folder)
    data_tmp, meta_tmp = folder / f".{DATA_FILE}.tmp", folder / f".{META_FILE}.tmp"
    with open(data_tmp, "wb") as f:
        np.savez(
            f,
            tf_data=ranker.term_counts.data,
            tf_indices=ranker.term_counts.indices,
            tf_indptr=ranker.term_counts.indptr,
            letters_data=ranker.gram_counts.data,
            letters_indices=ranker.gram_counts.indices,
            letters_indptr=ranker.gram_counts.indptr,
            lengths=ranker.lengths,
            navec=ranker.navec,
            llama=ranker.llama,
            line_owner=ranker.line_owner,
            line_question=ranker.line_question,
            line_navec=ranker.line_navec,
            line_llama=ranker.line_llama,
        )
    meta = {
        "format": FORMAT,
        "docs": ranker.meta,
        "terms": ranker.terms.names,
        "words": ranker.spelling_words,
    }
    meta_tmp.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    # The data file first: a reader that sees the new metadata finds matching data.
    os.replace(data_tmp, folder / DATA_FILE)
    os.replace(meta_tmp, folder / META_FILE)


def load(folder: Path) -> Ranker:
    """The data saved in an index generation."""
    folder = Path(folder)
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT:
        raise ValueError("ranking data of another format")
    with np.load(folder / DATA_FILE) as z:
        n = len(meta["docs"])
        tf = sp.csr_matrix(
            (z["tf_data"], z["tf_indices"], z["tf_indptr"]), shape=(n, len(meta["terms"]))
        )
        letters = sp.csr_matrix(
            (z["letters_data"], z["letters_indices"], z["letters_indptr"]),
            shape=(n, LETTER_SPACE),
        )
        return Ranker(
            meta["docs"],
            Vocabulary(meta["terms"]),
            tf,
            z["lengths"],
            letters,
            z["navec"],
            z["llama"],
            z["line_owner"],
            z["line_question"],
            z["line_navec"],
            z["line_llama"],
            meta["words"],
        )


def exists(folder: Path) -> bool:
    """Whether a generation holds ranking data."""
    return (Path(folder) / META_FILE).exists() and (Path(folder) / DATA_FILE).exists()
