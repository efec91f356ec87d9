"""Store conformance for :class:`RetrievalStore`: keyword, dense and entity search over chunks,
with filters.

Subclass :class:`RetrievalStoreConformance` in a backend's tests and give it a ``store`` fixture
(an empty, open store); ``store_conformance.StoreConformance`` runs every suite.
"""

from __future__ import annotations

import numpy as np
import pytest

from cairn.kb.protocol import RetrievalStore
from cairn.kb.types import (
    SearchFilters,
)
from conformance_data import (
    BABBAGE,
    DIM,
    KINGFISHER,
    LOVELACE,
    NO_FILTERS,
    C,
    ConformanceBase,
    Corpus,
    SearchableDocuments,
    all_records,
    assert_descending,
    axis,
    chunk_id,
    doc,
    ids,
    unit,
    uris,
    write,
)


class RetrievalStoreConformance(ConformanceBase):
    """Keyword, dense and entity search over chunks, with filters (:class:`RetrievalStore`)."""

    def test_is_a_retrieval_store(self, store: SearchableDocuments) -> None:
        assert isinstance(store, RetrievalStore)

    def test_empty_store_finds_nothing(self, store: SearchableDocuments) -> None:
        assert store.keyword_search(["anything"], 10, NO_FILTERS) == []
        assert store.dense_search(axis(0), 10, NO_FILTERS) == []
        assert store.entity_search(["london"], 10, NO_FILTERS) == []

    def test_keyword_finds_and_limits(self, store: SearchableDocuments, corpus: Corpus) -> None:
        hits = store.keyword_search(["babbage"], 10, NO_FILTERS)
        # B0 and B1 match in text and title; B2's document has no title and its text no name
        assert set(ids(hits)) == {corpus.chunk[c] for c in ("L1", "B0", "B1")}
        assert_descending(hits)
        assert len(store.keyword_search(["babbage"], 2, NO_FILTERS)) == 2
        assert store.keyword_search(["babbage"], 0, NO_FILTERS) == []
        assert store.keyword_search(["xylophone"], 10, NO_FILTERS) == []
        assert store.keyword_search([], 10, NO_FILTERS) == []
        assert store.keyword_search(["", "  "], 10, NO_FILTERS) == []

    def test_keyword_or_semantics(self, store: SearchableDocuments, corpus: Corpus) -> None:
        hits = store.keyword_search(["lovelace", "kingfisher", "xylophone"], 10, NO_FILTERS)
        assert uris(store, hits) == {LOVELACE, KINGFISHER}
        assert set(ids(hits)) == {corpus.chunk[c] for c in ("L0", "L1", "K0", "K1")}

    def test_keyword_matches_title(self, store: SearchableDocuments, corpus: Corpus) -> None:
        # L1's text never says "Ada"; its document's title does
        hits = store.keyword_search(["ada"], 10, NO_FILTERS)
        assert set(ids(hits)) == {corpus.chunk["L0"], corpus.chunk["L1"]}

    def test_keyword_stems(self, store: SearchableDocuments, corpus: Corpus) -> None:
        hits = store.keyword_search(["designs"], 10, NO_FILTERS)
        assert ids(hits) == [corpus.chunk["B0"]]

    def test_keyword_odd_terms_do_not_break(
        self, store: SearchableDocuments, corpus: Corpus
    ) -> None:
        odd = ['"river', "AND", "NOT", "OR", "*", "(", "river)", "london's", "a:b", "-x", "'"]
        hits = store.keyword_search(odd, 10, NO_FILTERS)
        assert {corpus.chunk["K0"], corpus.chunk["K1"]} <= set(ids(hits))

    def test_keyword_filters(self, store: SearchableDocuments, corpus: Corpus) -> None:
        terms = ["london", "river", "engine"]
        everything = set(ids(store.keyword_search(terms, 10, NO_FILTERS)))
        assert everything == {corpus.chunk[c] for c in ("L0", "L1", "B0", "B1", "K0", "K1")}
        nature = store.keyword_search(terms, 10, SearchFilters(collections=("nature",)))
        assert uris(store, nature) == {KINGFISHER}
        mit = store.keyword_search(terms, 10, SearchFilters(licenses=("MIT",)))
        assert set(ids(mit)) == {corpus.chunk["B0"], corpus.chunk["B1"]}
        two = store.keyword_search(terms, 10, SearchFilters(licenses=("MIT", "CC-BY-4.0")))
        assert uris(store, two) == {LOVELACE, BABBAGE}
        consent = SearchFilters(consent=("granted", "unknown"))
        assert uris(store, store.keyword_search(terms, 10, consent)) == {LOVELACE, BABBAGE}
        both = SearchFilters(collections=("history",), consent=("granted",))
        assert uris(store, store.keyword_search(terms, 10, both)) == {LOVELACE}
        none = SearchFilters(collections=("nature",), licenses=("MIT",))
        assert store.keyword_search(terms, 10, none) == []

    def test_keyword_bm25_ordering(self, store: SearchableDocuments) -> None:
        texts = {
            "a": "apple banana apple cherry apple",
            "b": "apple banana cherry date elderberry fig grape honeydew",
            "c": "banana cherry date",
            "d": "quince cherry date",
        }
        for key, text in texts.items():
            write(store, f"/bm25/{key}", doc(key, None, C(text)))
        cid = {key: chunk_id(store, text) for key, text in texts.items()}
        # term frequency: three apples beat one
        apple = ids(store.keyword_search(["apple"], 10, NO_FILTERS))
        assert apple == [cid["a"], cid["b"]]
        # rarity: one rare term beats one term found almost everywhere
        rare = store.keyword_search(["banana", "quince"], 10, NO_FILTERS)
        assert ids(rare)[0] == cid["d"]
        assert set(ids(rare)) == set(cid.values())
        assert_descending(rare)
        # length: the same single match counts more in a shorter chunk
        cherry = ids(store.keyword_search(["cherry"], 10, NO_FILTERS))
        assert set(cherry[:2]) == {cid["c"], cid["d"]}
        assert cherry[2:] == [cid["a"], cid["b"]]

    def test_dense_nearest_first(self, store: SearchableDocuments, corpus: Corpus) -> None:
        hits = store.dense_search(axis(1), 10, NO_FILTERS)
        assert hits[0].chunk_id == corpus.chunk["L1"]
        assert hits[0].score == pytest.approx(1.0, abs=1e-4)
        assert len(hits) == 7
        assert_descending(hits)
        q = unit(0.1, 0.9, 0.4)
        hits = store.dense_search(q, 3, NO_FILTERS)
        assert ids(hits) == [corpus.chunk["L1"], corpus.chunk["B0"], corpus.chunk["L0"]]
        assert [h.score for h in hits] == pytest.approx([q[1], q[2], q[0]], abs=1e-4)

    def test_dense_filters(self, store: SearchableDocuments, corpus: Corpus) -> None:
        q = unit(1, 1, 1, 1, 1, 1, 1, 1)
        nature = store.dense_search(q, 10, SearchFilters(collections=("nature",)))
        assert set(ids(nature)) == {corpus.chunk["K0"], corpus.chunk["K1"]}
        mit = store.dense_search(q, 10, SearchFilters(licenses=("MIT",)))
        assert set(ids(mit)) == {corpus.chunk[c] for c in ("B0", "B1", "B2")}
        consent = store.dense_search(axis(5), 10, SearchFilters(consent=("granted", "unknown")))
        assert uris(store, consent) == {LOVELACE, BABBAGE}
        assert len(consent) == 5
        none = SearchFilters(collections=("nature",), consent=("granted",))
        assert store.dense_search(q, 10, none) == []
        assert store.dense_search(q, 0, NO_FILTERS) == []

    def test_dense_exact_against_brute_force(self, store: SearchableDocuments) -> None:
        rng = np.random.default_rng(7)
        matrix = rng.normal(size=(60, DIM)).astype(np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        chunks = [C(f"random chunk number {i}", matrix[i]) for i in range(60)]
        write(store, "/random/a", doc("a", None, *chunks[:30]))
        write(store, "/random/b", doc("b", None, *chunks[30:]), collection="b")
        by_text = {r.text: r.chunk_id for r in all_records(store)}
        row_ids = np.array([by_text[c.text] for c in chunks])
        for _ in range(5):
            q = unit(*rng.normal(size=DIM))
            sims = matrix @ q
            top = np.argsort(-sims)[:5]
            hits = store.dense_search(q, 5, NO_FILTERS)
            assert ids(hits) == row_ids[top].tolist()
            assert [h.score for h in hits] == pytest.approx(sims[top].tolist(), abs=1e-4)
            only_b = store.dense_search(q, 5, SearchFilters(collections=("b",)))
            top_b = 30 + np.argsort(-sims[30:])[:5]
            assert ids(only_b) == row_ids[top_b].tolist()

    def test_entity_search_scores_rarity(self, store: SearchableDocuments, corpus: Corpus) -> None:
        assert ids(store.entity_search(["difference engine"], 10, NO_FILTERS)) == [
            corpus.chunk["B0"]
        ]
        # "difference engine" is in one chunk, "london" in two: the rarer mention scores higher
        hits = store.entity_search(["london", "difference engine"], 10, NO_FILTERS)
        assert ids(hits)[0] == corpus.chunk["B0"]
        assert set(ids(hits)) == {corpus.chunk["B0"], corpus.chunk["L1"], corpus.chunk["B1"]}
        assert hits[1].score == pytest.approx(hits[2].score)
        assert hits[0].score > hits[1].score > 0
        # a chunk that mentions more of the entities scores higher
        hits = store.entity_search(["charles babbage", "london"], 10, NO_FILTERS)
        assert ids(hits)[0] == corpus.chunk["L1"]
        assert_descending(hits)
        assert len(store.entity_search(["charles babbage", "london"], 1, NO_FILTERS)) == 1
        assert store.entity_search(["nobody known"], 10, NO_FILTERS) == []
        assert store.entity_search([], 10, NO_FILTERS) == []

    def test_entity_search_filters(self, store: SearchableDocuments, corpus: Corpus) -> None:
        keys = ["london", "charles babbage", "analytical engine"]
        mit = store.entity_search(keys, 10, SearchFilters(licenses=("MIT",)))
        assert set(ids(mit)) == {corpus.chunk["B0"], corpus.chunk["B1"]}
        granted = store.entity_search(keys, 10, SearchFilters(consent=("granted",)))
        assert set(ids(granted)) == {corpus.chunk["L0"], corpus.chunk["L1"]}
        assert store.entity_search(keys, 10, SearchFilters(collections=("nature",))) == []
