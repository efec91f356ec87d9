"""Peer retrievers to compare Cairn against, and a timed loop that runs one over queries.

``bm25s`` and ``PyStemmer`` are optional (the ``dev`` extra); they are imported only when a
:class:`Bm25sPeer` is built.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from cairn.errors import ConfigError, ModelError

_INSTALL_HINT = "pip install bm25s PyStemmer"


class Peer(Protocol):
    """A retriever that maps a query to document ids, best first."""

    name: str

    def search(self, query: str, k: int) -> list[str]: ...


def _import_bm25s() -> tuple[Any, Any]:
    try:
        import bm25s
        import Stemmer
    except ImportError as err:
        raise ModelError(
            "missing-package",
            f"the bm25s peer needs the packages bm25s and PyStemmer ({err.name or err} is "
            f"missing): {_INSTALL_HINT}",
        ) from err
    return bm25s, Stemmer


class Bm25sPeer:
    """BM25 (bm25s, Lucene variant) over ``title + " " + text``, English stop-words and stemming.

    Tokenisation is bm25s's own (lower-cased ``\\w\\w+`` tokens, its English stop-word list,
    PyStemmer's English Snowball stemmer), the set-up of bm25s's published BEIR figures.
    Documents that share no term with a query are not returned, so a result may be shorter
    than ``k``.
    """

    name = "bm25s"

    def __init__(
        self,
        corpus: Iterable[tuple[str, str, str]],
        *,
        k1: float = 1.5,
        b: float = 0.75,
        method: str = "lucene",
    ) -> None:
        bm25s, stemmer_mod = _import_bm25s()
        self._bm25s = bm25s
        self._stemmer = stemmer_mod.Stemmer("english")
        ids: list[str] = []
        texts: list[str] = []
        for doc_id, title, text in corpus:
            ids.append(doc_id)
            texts.append(f"{title} {text}" if title else text)
        if not ids:
            raise ConfigError("empty-corpus", "the bm25s peer needs at least one document")
        self._ids = ids
        tokens = bm25s.tokenize(texts, stopwords="en", stemmer=self._stemmer, show_progress=False)
        self._retriever = bm25s.BM25(k1=k1, b=b, method=method)
        self._retriever.index(tokens, show_progress=False)

    def __len__(self) -> int:
        return len(self._ids)

    def search(self, query: str, k: int) -> list[str]:
        """Ids of the ``k`` best-scoring documents for ``query``, best first."""
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        tokens = self._bm25s.tokenize(
            [query],
            stopwords="en",
            stemmer=self._stemmer,
            return_ids=False,
            show_progress=False,
        )
        docs, scores = self._retriever.retrieve(
            tokens, k=min(k, len(self._ids)), show_progress=False
        )
        return [
            self._ids[int(i)]
            for i, score in zip(docs[0].tolist(), scores[0].tolist(), strict=True)
            if score > 0.0
        ]


def run_peer(
    peer: Peer, queries: Mapping[str, str], k: int
) -> tuple[dict[str, list[str]], list[float]]:
    """Search every query with ``peer``; the run (qid -> doc ids) and per-query latency in ms.

    Latencies are wall-clock (``time.perf_counter``) around each ``peer.search`` call, in the
    order of ``queries``.
    """
    run: dict[str, list[str]] = {}
    latencies_ms: list[float] = []
    for qid, text in queries.items():
        start = time.perf_counter()
        run[qid] = peer.search(text, k)
        latencies_ms.append((time.perf_counter() - start) * 1000.0)
    return run, latencies_ms
