"""Store conformance for :class:`EntityStore`: the entity graph, and that replacing or forgetting
a source leaves no entity, mention or relation of it behind.

Subclass :class:`EntityStoreConformance` in a backend's tests and give it a ``store`` fixture
(an empty, open store); ``store_conformance.StoreConformance`` runs every suite.
"""

from __future__ import annotations

import pytest

from cairn.errors import NotFoundError
from cairn.kb.protocol import EntityStore
from cairn.kb.types import (
    ChunkIn,
    DocumentIn,
    EntityMention,
    StoreStats,
)
from conformance_data import (
    BABBAGE,
    KINGFISHER,
    LOVELACE,
    NO_FILTERS,
    C,
    ConformanceBase,
    Corpus,
    GraphStore,
    all_records,
    axis,
    chunk_id,
    doc,
    ids,
    unit,
    uris,
    vec_bytes,
    write,
)


class EntityStoreConformance(ConformanceBase):
    """The entity graph (:class:`EntityStore`), and that replacing or forgetting a source leaves"""

    def test_is_an_entity_store(self, store: GraphStore) -> None:
        assert isinstance(store, EntityStore)

    def test_empty_store_knows_no_entities(self, store: GraphStore) -> None:
        assert store.match_entities("London") == []
        assert store.chunk_entities([1, 2, 3]) == {}

    def test_replace_removes_old_derived_data(self, store: GraphStore, corpus: Corpus) -> None:
        uri = "/corpus/replaced.txt"
        write(
            store,
            uri,
            doc(
                "v1",
                "First version",
                C(
                    "Obsoletium Grimwald visited London.",
                    unit(0, 0, 0, 0, 0, 0, 0, 1),
                    [("Obsoletium Grimwald", "PERSON"), ("London", "GPE")],
                    [("obsoletium grimwald", "visited", "london")],
                ),
            ),
        )
        assert store.match_entities("Obsoletium Grimwald") == ["obsoletium grimwald"]
        before = store.stats()

        new = write(
            store,
            uri,
            doc("v2", "Second version", C("Freshling wrote about rivers.", unit(1, 1))),
            doc("v2b", None, C("A second document.", unit(1, -1))),
        )
        assert store.get_source(uri) == new
        assert (new.n_documents, new.n_chunks) == (2, 2)
        assert [s.uri for s in store.list_sources()].count(uri) == 1
        # (a backend may reuse the old chunk ids, so look for the old text, not the old ids)
        texts = {r.text for r in all_records(store) if r.source_uri == uri}
        assert texts == {"Freshling wrote about rivers.", "A second document."}
        # no signal still returns the old chunks
        assert store.keyword_search(["obsoletium", "grimwald"], 10, NO_FILTERS) == []
        old_vector = unit(0, 0, 0, 0, 0, 0, 0, 1)
        dense = store.dense_search(old_vector, 100, NO_FILTERS)
        assert all(h.score < 0.5 for h in dense)
        assert "Obsoletium" not in " ".join(r.text for r in store.chunk_records(ids(dense)))
        assert store.entity_search(["obsoletium grimwald"], 10, NO_FILTERS) == []
        # the old version's mention of a shared entity is gone too
        assert uris(store, store.entity_search(["london"], 10, NO_FILTERS)) == {LOVELACE, BABBAGE}
        # an entity nothing refers to any more is deleted; a shared one stays
        assert store.match_entities("Obsoletium Grimwald visited London") == ["london"]
        after = store.stats()
        assert after.sources == before.sources
        assert after.documents == before.documents + 1
        assert after.chunks == before.chunks + 1
        assert after.vectors == before.vectors + 1
        assert after.entities == before.entities - 1
        assert after.relations == before.relations - 1
        # the new version is searchable
        hits = store.keyword_search(["freshling"], 10, NO_FILTERS)
        assert uris(store, hits) == {uri}

    def test_replace_keeps_entities_other_sources_use(
        self, store: GraphStore, corpus: Corpus
    ) -> None:
        write(store, LOVELACE, doc("lovelace", "Ada", C("Nothing named here.", axis(0))))
        keys = store.match_entities("Ada Lovelace, Charles Babbage, the Analytical Engine")
        assert keys == ["analytical engine", "charles babbage"]  # still in babbage.txt
        assert ids(store.entity_search(["charles babbage"], 10, NO_FILTERS)) == [corpus.chunk["B0"]]
        assert store.stats().relations == 0

    def test_forget_removes_everything(self, store: GraphStore, corpus: Corpus) -> None:
        c = corpus.chunk
        l_ids = [c["L0"], c["L1"]]
        (l0,) = store.chunk_records([c["L0"]])
        gone = store.forget_source(LOVELACE)
        assert gone.id == corpus.lovelace.id
        assert gone.uri == LOVELACE
        assert store.get_source(LOVELACE) is None
        assert store.get_source(corpus.lovelace.id) is None
        assert store.get_source("https://example.org/lovelace") is None
        assert [s.uri for s in store.list_sources()] == [BABBAGE, KINGFISHER]
        assert store.chunk_records(l_ids) == []
        assert store.chunk_entities(l_ids) == {}
        with pytest.raises(NotFoundError):
            store.document_text(l0.document_id)
        # no search signal returns its chunks
        kw = store.keyword_search(["ada", "lovelace", "corresponded", "algorithm"], 100, NO_FILTERS)
        assert kw == []
        for v in (axis(0), axis(1)):
            assert not set(ids(store.dense_search(v, 100, NO_FILTERS))) & set(l_ids)
        keys = ["ada lovelace", "charles babbage", "london", "analytical engine"]
        assert not set(ids(store.entity_search(keys, 100, NO_FILTERS))) & set(l_ids)
        # entities only it mentioned are gone; shared ones stay
        assert store.match_entities("Ada Lovelace met Charles Babbage") == ["charles babbage"]
        assert store.stats() == StoreStats(
            sources=2, documents=3, chunks=5, vectors=5, entities=4, relations=0
        )
        # the rest is untouched
        assert ids(store.dense_search(axis(2), 1, NO_FILTERS)) == [c["B0"]]
        assert set(ids(store.keyword_search(["kingfisher"], 10, NO_FILTERS))) == {
            c["K0"],
            c["K1"],
        }

    def test_match_entities(self, store: GraphStore, corpus: Corpus) -> None:
        assert store.match_entities("What did Charles Babbage build in LONDON?") == [
            "charles babbage",
            "london",
        ]
        assert store.match_entities("tell me about the analytical   engine") == [
            "analytical engine"
        ]
        # word-bounded: no match inside longer words
        assert store.match_entities("Londoners admired babbages and engines") == []
        assert store.match_entities("") == []
        assert store.match_entities("?!") == []

    def test_chunk_entities(self, store: GraphStore, corpus: Corpus) -> None:
        c = corpus.chunk
        out = store.chunk_entities([c["L1"], c["B0"], c["B2"], 999_999])
        assert {k: sorted(v) for k, v in out.items()} == {
            c["L1"]: ["charles babbage", "london"],
            c["B0"]: ["analytical engine", "charles babbage", "difference engine"],
        }
        assert store.chunk_entities([]) == {}

    def test_chunk_entities_lists_each_key_once(self, store: GraphStore) -> None:
        text = "Paris is big. Paris is old."
        twice = [EntityMention("Paris", "GPE", 0, 5), EntityMention("Paris", "GPE", 14, 19)]
        assert all(text[m.start : m.end] == "Paris" for m in twice)
        d = DocumentIn("t", None, text, [ChunkIn(0, len(text), text, vec_bytes(axis(0)), twice)])
        write(store, "/twice", d)
        cid = chunk_id(store, "Paris")
        assert store.chunk_entities([cid]) == {cid: ["paris"]}
        hits = store.entity_search(["paris"], 10, NO_FILTERS)
        assert ids(hits) == [cid]
        assert store.stats().entities == 1
