"""Store conformance for :class:`DocumentStore`: sources, documents and chunks (write, replace,
forget, read back). The backend must also search what it holds (:class:`RetrievalStore`): a
forgotten or replaced source leaves search too.

Subclass :class:`DocumentStoreConformance` in a backend's tests and give it a ``store`` fixture
(an empty, open store); ``store_conformance.StoreConformance`` runs every suite.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from cairn.errors import NotFoundError, StoreError
from cairn.kb.protocol import DocumentStore
from cairn.kb.types import (
    ChunkRecord,
    Consent,
    Provenance,
    SearchFilters,
    StoreStats,
)
from conformance_data import (
    B2,
    BABBAGE,
    K0,
    K1,
    KINGFISHER,
    L0,
    LOVELACE,
    MODEL,
    NO_FILTERS,
    C,
    ConformanceBase,
    Corpus,
    SearchableDocuments,
    all_records,
    axis,
    chunk_id,
    doc,
    ids,
    uris,
    write,
)


class DocumentStoreConformance(ConformanceBase):
    """Sources, documents and chunks: write, replace, forget, read back (:class:`DocumentStore`)."""

    def test_is_a_document_store(self, store: SearchableDocuments) -> None:
        assert isinstance(store, DocumentStore)

    def test_empty_store(self, store: SearchableDocuments) -> None:
        assert store.stats() == StoreStats(0, 0, 0, 0, 0, 0)
        assert store.list_sources() == []
        assert store.get_source(LOVELACE) is None
        assert store.get_source(1) is None
        assert store.embedding_model() is None
        assert store.chunk_records([1, 2, 3]) == []

    def test_write_returns_source_with_provenance_and_counts(
        self, store: SearchableDocuments
    ) -> None:
        d = doc("k", "T", C("alpha beta", axis(0)), C("gamma delta", axis(1)))
        src = store.write_source(
            "/data/a.txt",
            content_hash="abc123",
            size_bytes=42,
            provenance=Provenance("col", "CC0-1.0", "https://e.org/a", "me", Consent.granted),
            documents=[d],
            embedding_model=MODEL,
        )
        assert src.uri == "/data/a.txt"
        assert src.content_hash == "abc123"
        assert src.size_bytes == 42
        assert src.provenance == Provenance(
            "col", "CC0-1.0", "https://e.org/a", "me", Consent.granted
        )
        assert (src.n_documents, src.n_chunks) == (1, 2)
        assert datetime.fromisoformat(src.ingested_at).tzinfo is not None
        assert store.get_source(src.id) == src

    def test_get_source_by_id_uri_and_source_url(
        self, store: SearchableDocuments, corpus: Corpus
    ) -> None:
        lov = corpus.lovelace
        assert store.get_source(lov.id) == lov
        assert store.get_source(str(lov.id)) == lov
        assert store.get_source(LOVELACE) == lov
        assert store.get_source("https://example.org/lovelace") == lov
        assert store.get_source(KINGFISHER) == corpus.kingfisher  # a URL as the uri
        assert store.get_source("/corpus/none.txt") is None
        assert store.get_source(999_999) is None

    def test_source_counts(self, store: SearchableDocuments, corpus: Corpus) -> None:
        assert (corpus.lovelace.n_documents, corpus.lovelace.n_chunks) == (1, 2)
        assert (corpus.babbage.n_documents, corpus.babbage.n_chunks) == (2, 3)
        assert (corpus.kingfisher.n_documents, corpus.kingfisher.n_chunks) == (1, 2)
        empty = write(store, "/corpus/empty.txt")
        assert (empty.n_documents, empty.n_chunks) == (0, 0)
        assert store.get_source("/corpus/empty.txt") == empty

    def test_stats(self, store: SearchableDocuments, corpus: Corpus) -> None:
        # entities: ada lovelace, analytical engine, charles babbage, london, difference engine
        assert store.stats() == StoreStats(
            sources=3, documents=4, chunks=7, vectors=7, entities=5, relations=2
        )

    def test_chunks_without_vectors(self, store: SearchableDocuments) -> None:
        write(store, "/v/a", doc("a", None, C("with a vector", axis(0)), C("without one")))
        assert store.stats().chunks == 2
        assert store.stats().vectors == 1
        without = chunk_id(store, "without")
        assert without not in ids(store.dense_search(axis(0), 10, NO_FILTERS))
        assert [without] == ids(store.keyword_search(["without"], 10, NO_FILTERS))

    def test_text_round_trips(self, store: SearchableDocuments) -> None:
        text = "Zürich café: naïve façade — 東京 ünïcödé\n\tand a tab."
        write(store, "/u/zurich", doc("z", "Ünïcode", C(text, axis(0))))
        (rec,) = all_records(store)
        assert rec.text == text
        assert rec.title == "Ünïcode"
        assert store.document_text(rec.document_id) == text

    def test_failed_write_leaves_previous_version(
        self, store: SearchableDocuments, corpus: Corpus
    ) -> None:
        before = store.stats()
        dup = doc("same-key", None, C("Replacementium text.", axis(0)))
        with pytest.raises(StoreError):
            write(store, LOVELACE, doc("ok", None, C("first doc", axis(1))), dup, dup)
        assert store.get_source(LOVELACE) == corpus.lovelace
        assert store.stats() == before
        assert store.keyword_search(["replacementium"], 10, NO_FILTERS) == []
        hits = store.keyword_search(["lovelace"], 10, NO_FILTERS)
        assert set(ids(hits)) == {corpus.chunk["L0"], corpus.chunk["L1"]}
        # and a failed first write of a new source leaves nothing behind
        with pytest.raises(StoreError):
            write(store, "/corpus/new.txt", dup, dup)
        assert store.get_source("/corpus/new.txt") is None
        assert store.stats() == before

    def test_list_sources(self, store: SearchableDocuments, corpus: Corpus) -> None:
        all_ = store.list_sources()
        assert [s.uri for s in all_] == [LOVELACE, BABBAGE, KINGFISHER]
        assert all_ == [corpus.lovelace, corpus.babbage, corpus.kingfisher]
        assert [s.uri for s in store.list_sources("history")] == [LOVELACE, BABBAGE]
        assert store.list_sources("nature") == [corpus.kingfisher]
        assert store.list_sources("nowhere") == []

    def test_update_provenance(self, store: SearchableDocuments, corpus: Corpus) -> None:
        kf = corpus.kingfisher
        new = Provenance("history", "CC0-1.0", "https://birds.example/kf", "bob", Consent.granted)
        updated = store.update_provenance(kf.id, new)
        assert updated.provenance == new
        assert (updated.id, updated.uri, updated.content_hash) == (kf.id, kf.uri, kf.content_hash)
        assert (updated.n_documents, updated.n_chunks) == (kf.n_documents, kf.n_chunks)
        assert store.get_source("https://birds.example/kf") == updated
        assert store.list_sources("nature") == []
        # filters see the change at once; text and chunks are untouched
        hist = SearchFilters(collections=("history",), licenses=("CC0-1.0",))
        hits = store.keyword_search(["kingfisher"], 10, hist)
        assert set(ids(hits)) == {corpus.chunk["K0"], corpus.chunk["K1"]}
        nature = SearchFilters(collections=("nature",))
        assert store.keyword_search(["kingfisher"], 10, nature) == []
        (rec,) = store.chunk_records([corpus.chunk["K0"]])
        assert (rec.collection, rec.license, rec.consent) == ("history", "CC0-1.0", "granted")
        assert rec.text == K0
        assert store.document_text(rec.document_id) == f"{K0} {K1}"
        with pytest.raises(NotFoundError):
            store.update_provenance(999_999, new)

    def test_update_provenance_can_clear_fields(
        self, store: SearchableDocuments, corpus: Corpus
    ) -> None:
        cleared = store.update_provenance(corpus.lovelace.id, Provenance())
        assert cleared.provenance == Provenance("default", None, None, None, Consent.unknown)
        assert store.get_source("https://example.org/lovelace") is None

    def test_chunk_records_order_and_missing(
        self, store: SearchableDocuments, corpus: Corpus
    ) -> None:
        c = corpus.chunk
        recs = store.chunk_records([c["B1"], 999_999, c["L0"], c["K0"]])
        assert [r.chunk_id for r in recs] == [c["B1"], c["L0"], c["K0"]]
        assert store.chunk_records([]) == []
        l0 = recs[1]
        assert l0 == ChunkRecord(
            chunk_id=c["L0"],
            document_id=l0.document_id,
            doc_key="lovelace",
            title="Ada Lovelace",
            source_id=corpus.lovelace.id,
            source_uri=LOVELACE,
            collection="history",
            license="CC-BY-4.0",
            consent=Consent.granted,
            start=0,
            end=len(L0),
            text=L0,
        )
        assert recs[0].title == "Charles Babbage"
        assert recs[2].license is None
        assert recs[2].consent == Consent.refused

    def test_document_text_and_offsets(self, store: SearchableDocuments, corpus: Corpus) -> None:
        records = all_records(store)
        assert len(records) == 7
        for rec in records:
            assert store.document_text(rec.document_id)[rec.start : rec.end] == rec.text
        (b2,) = store.chunk_records([corpus.chunk["B2"]])
        assert b2.title is None
        assert b2.doc_key == "babbage-2"
        assert store.document_text(b2.document_id) == B2
        with pytest.raises(NotFoundError):
            store.document_text(999_999)

    def test_embedding_model_is_recorded(self, store: SearchableDocuments) -> None:
        write(store, "/m/novec", doc("n", None, C("no vectors here")), model="whatever")
        assert store.embedding_model() is None  # no vectors, nothing recorded
        write(store, "/m/a", doc("a", None, C("alpha", axis(0))))
        assert store.embedding_model() == MODEL

    def test_embedding_model_mismatch(self, store: SearchableDocuments, corpus: Corpus) -> None:
        before = store.stats()
        with pytest.raises(StoreError) as info:
            write(store, "/m/other", doc("o", None, C("other", axis(0))), model="other-model")
        assert info.value.code == "embedding-model-mismatch"
        assert store.get_source("/m/other") is None
        with pytest.raises(StoreError) as info:
            write(store, LOVELACE, doc("o", None, C("other", axis(0))), model="other-model")
        assert info.value.code == "embedding-model-mismatch"
        assert store.get_source(LOVELACE) == corpus.lovelace
        assert store.stats() == before
        assert store.embedding_model() == MODEL
        # a source without vectors does not involve the model
        write(store, "/m/text-only", doc("t", None, C("just text")), model="other-model")
        assert store.embedding_model() == MODEL

    def test_forget_by_id_and_by_source_url(
        self, store: SearchableDocuments, corpus: Corpus
    ) -> None:
        assert store.forget_source(corpus.babbage.id).uri == BABBAGE
        assert store.forget_source(str(corpus.kingfisher.id)).uri == KINGFISHER
        assert store.forget_source("https://example.org/lovelace").uri == LOVELACE
        assert store.stats() == StoreStats(0, 0, 0, 0, 0, 0)
        assert store.dense_search(axis(0), 10, NO_FILTERS) == []

    def test_forget_unknown(self, store: SearchableDocuments, corpus: Corpus) -> None:
        with pytest.raises(NotFoundError):
            store.forget_source("/corpus/none.txt")
        with pytest.raises(NotFoundError):
            store.forget_source(999_999)
        store.forget_source(LOVELACE)
        with pytest.raises(NotFoundError):
            store.forget_source(LOVELACE)
        assert store.stats().sources == 2

    def test_keep_same_writes_nothing_when_the_content_is_stored(
        self, store: SearchableDocuments, corpus: Corpus
    ) -> None:
        before = store.get_source(KINGFISHER)
        assert before is not None
        with pytest.raises(StoreError) as info:
            store.write_source(
                KINGFISHER,
                content_hash=before.content_hash,
                size_bytes=1,
                provenance=before.provenance,
                documents=[doc("kf", "Kingfisher", C("Other words.", axis(5)))],
                embedding_model=MODEL,
                keep_same=True,
            )
        assert info.value.code == "kb-same-content"
        assert store.get_source(KINGFISHER) == before
        changed = store.write_source(
            KINGFISHER,
            content_hash="f" * 64,
            size_bytes=1,
            provenance=before.provenance,
            documents=[doc("kf", "Kingfisher", C("Other words.", axis(5)))],
            embedding_model=MODEL,
            keep_same=True,
        )
        assert changed.content_hash == "f" * 64

    def test_huge_or_odd_ids_are_not_found(
        self, store: SearchableDocuments, corpus: Corpus
    ) -> None:
        for ref in (10**22, "99999999999999999999999", 2**63, "\u00b2", -1):
            assert store.get_source(ref) is None
            with pytest.raises(NotFoundError):
                store.forget_source(ref)
        assert store.stats().sources == 3

    def test_source_ids_are_never_reused(self, store: SearchableDocuments, corpus: Corpus) -> None:
        # forgetting the newest source must not hand its id to the next one: a retried
        # "forget 3" would then remove the wrong source
        newest = max(s.id for s in store.list_sources())
        store.forget_source(newest)
        again = write(store, "/corpus/new.txt", doc("n", "New", C("A new text.", axis(6))))
        assert again.id > newest
        store.forget_source(again.id)
        store.forget_source(corpus.lovelace.id)
        third = write(store, "/corpus/third.txt", doc("t", "Third", C("Third text.", axis(7))))
        assert third.id > again.id

    def test_write_again_after_forget(self, store: SearchableDocuments, corpus: Corpus) -> None:
        store.forget_source(KINGFISHER)
        again = write(store, KINGFISHER, doc("kf", "Kingfisher", C(K0, axis(5))))
        assert store.get_source(KINGFISHER) == again
        assert uris(store, store.keyword_search(["kingfisher"], 10, NO_FILTERS)) == {KINGFISHER}
        assert ids(store.dense_search(axis(5), 1, NO_FILTERS)) == [chunk_id(store, K0)]

    def test_source_documents_round_trip(self, store: SearchableDocuments) -> None:
        docs = [
            doc(
                "d1",
                "Title",
                C("Ada Lovelace met Babbage.", axis(1), [("Ada Lovelace", "PERSON")]),
                C(
                    "Babbage built engines in London.",
                    axis(2),
                    [("Babbage", "PERSON"), ("London", "GPE")],
                    [("babbage", "lived_in", "london")],
                ),
                metadata={"lang": "en", "page": "3"},
            ),
            doc("d2", None, C("no vector here")),
            doc("d3", None),
        ]
        src = write(store, "/export", *docs)
        write(store, "/other", doc("o", None, C("other text", axis(3))))
        assert store.source_documents(src.id) == docs
        with pytest.raises(NotFoundError):
            store.source_documents(src.id + 1000)
