"""Run a search: candidates from keyword, dense and graph signals, fused, collapsed, cited."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from cairn.errors import SearchError
from cairn.kb.protocol import Store
from cairn.kb.types import ChunkRecord, ScoredChunk
from cairn.models.embed import Embedder, Vectors
from cairn.search.fusion import FusionConfig, fuse
from cairn.search.query import query_terms, validate_query
from cairn.search.types import Mode, SearchFilters, SearchHit
from cairn.text.sentences import split_sentences
from cairn.text.stem import prefix_stem
from cairn.text.tokens import WORD

_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="cairn-search")
QUERY_CACHE_SIZE = 512


class _QueryVectors:
    """A small LRU of query vectors per embedder (held weakly), keyed by exact query text.

    The web UI searches and then asks the same words, and clients retry; each query encoding
    costs milliseconds of CPU. Vectors are returned read-only, so a hit cannot be altered.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._items: weakref.WeakKeyDictionary[Embedder, OrderedDict[str, Vectors]] = (
            weakref.WeakKeyDictionary()
        )

    def get(self, embedder: Embedder, query: str) -> Vectors:
        try:
            weakref.ref(embedder)
            hash(embedder)
        except TypeError:  # an embedder that cannot be a weak key: no cache
            return embedder.embed_query(query)
        with self._lock:
            cache = self._items.get(embedder)
            vec = cache.get(query) if cache is not None else None
            if cache is not None and vec is not None:
                cache.move_to_end(query)
                return vec
        vec = np.array(embedder.embed_query(query), dtype=np.float32, copy=True)
        vec.setflags(write=False)
        with self._lock:
            cache = self._items.setdefault(embedder, OrderedDict())
            cache[query] = vec
            while len(cache) > self.size:
                cache.popitem(last=False)
        return vec

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


query_vectors = _QueryVectors(QUERY_CACHE_SIZE)


@dataclass(frozen=True)
class SearchConfig:
    candidates: int = 100  # per signal, before fusion
    graph: bool = True  # entity-graph expansion in hybrid mode
    graph_seed_hits: int = 3  # top fused hits whose entities seed the expansion
    fusion: FusionConfig = field(default_factory=FusionConfig)
    # Reuse the vectors of recent queries (same text, same embedder); the server turns it on.
    # Off by default so that benchmarks which repeat queries time every encoding.
    cache_query_vectors: bool = False


def search(
    store: Store,
    embedder: Embedder,
    query: str,
    *,
    k: int = 10,
    mode: Mode | str = Mode.hybrid,
    filters: SearchFilters | None = None,
    per_document: bool = True,
    highlights: bool = True,
    config: SearchConfig | None = None,
) -> list[SearchHit]:
    cfg = config or SearchConfig()
    q = validate_query(query)
    try:
        mode = Mode(mode)
    except ValueError as err:
        raise SearchError(
            "bad-mode", f"--mode {mode!r}: must be one of keyword, dense, hybrid"
        ) from err
    if not 1 <= k <= 1000:
        raise SearchError("bad-k", f"--k {k}: must be between 1 and 1000")
    filters = filters or SearchFilters()
    terms = query_terms(q)
    n = max(cfg.candidates, k * (3 if per_document else 1))

    lists: dict[str, Sequence[ScoredChunk]] = {}
    if mode == Mode.hybrid:
        # The query encoder, SQLite's FTS and a PostgreSQL server all work without the GIL:
        # encode and search dense on the pool while the keyword search runs here.
        dense = _POOL.submit(lambda: store.dense_search(_encode(embedder, q, cfg), n, filters))
        lists["keyword"] = store.keyword_search(terms, n, filters)
        lists["dense"] = dense.result()
    elif mode == Mode.keyword:
        lists["keyword"] = store.keyword_search(terms, n, filters)
    else:
        lists["dense"] = store.dense_search(_encode(embedder, q, cfg), n, filters)
    if mode == Mode.hybrid and cfg.graph:
        lists["graph"] = graph_candidates(store, q, lists, n, filters, cfg)

    if mode == Mode.hybrid:
        ranked = fuse(lists, cfg.fusion)
    else:
        only = next(iter(lists.values()))
        ranked = [(h.chunk_id, h.score, {mode.value: h.score}) for h in only]

    return _hits(store, ranked, terms if highlights else None, k, per_document)


def _encode(embedder: Embedder, query: str, cfg: SearchConfig) -> Vectors:
    if cfg.cache_query_vectors:
        return query_vectors.get(embedder, query)
    return embedder.embed_query(query)


def graph_candidates(
    store: Store,
    query: str,
    lists: dict[str, Sequence[ScoredChunk]],
    n: int,
    filters: SearchFilters,
    cfg: SearchConfig,
) -> list[ScoredChunk]:
    """Chunks that share entities with the query, or with the top hits of the other signals."""
    keys = set(store.match_entities(query))
    seeds = fuse(lists, cfg.fusion)[: cfg.graph_seed_hits]
    if seeds:
        for ents in store.chunk_entities([cid for cid, _, _ in seeds]).values():
            keys.update(ents)
    if not keys:
        return []
    return store.entity_search(sorted(keys), n, filters)


def _hits(
    store: Store,
    ranked: list[tuple[int, float, dict[str, float]]],
    terms: list[str] | None,
    k: int,
    per_document: bool,
) -> list[SearchHit]:
    records: dict[int, ChunkRecord] = {}
    chosen: list[tuple[int, float, dict[str, float]]] = []
    if per_document:
        # Collapse to the best chunk per document; fetch records in growing pages (most
        # queries need only the first 2k ranked chunks) until k documents are found.
        seen_docs: set[int] = set()
        lo, size = 0, max(2 * k, 20)
        while lo < len(ranked) and len(chosen) < k:
            page = ranked[lo : lo + size]
            lo += size
            size = min(size * 4, 1000)
            got = {r.chunk_id: r for r in store.chunk_records([c for c, _, _ in page])}
            records |= got
            for cid, score, sig in page:
                rec = got.get(cid)
                if rec is None or rec.document_id in seen_docs:
                    continue
                seen_docs.add(rec.document_id)
                chosen.append((cid, score, sig))
                if len(chosen) >= k:
                    break
    else:
        chosen = ranked[:k]
        records = {r.chunk_id: r for r in store.chunk_records([c for c, _, _ in chosen])}
    hits: list[SearchHit] = []
    for cid, score, sig in chosen:
        rec = records.get(cid)
        if rec is None:  # forgotten between the two reads
            continue
        highlight = best_sentence(rec, terms) if terms is not None else None
        hits.append(SearchHit(rec, score, len(hits) + 1, dict(sig), highlight))
    return hits


def best_sentence(rec: ChunkRecord, terms: Sequence[str]) -> tuple[int, int] | None:
    """Document offsets of the chunk's sentence sharing most query terms (first on ties)."""
    spans = split_sentences(rec.text)
    if not spans:
        return None
    wanted = {prefix_stem(t) for t in terms}
    text = rec.text
    find = WORD.findall
    best, best_score = spans[0], 0
    for s in spans:
        # prefix_stem, inlined: this loop runs per word of every hit
        score = len(wanted.intersection([w.lower()[:5] for w in find(text, s.start, s.end)]))
        if score > best_score:
            best, best_score = s, score
    return (rec.start + best.start, rec.start + best.end)
