"""Conformance tests for the :class:`cairn.kb.protocol.Store` protocol.

Every backend runs the same tests (haystack ``testing/document_store.py`` style): subclass
:class:`StoreConformance` in a ``test_*.py`` module and provide a ``store`` fixture that yields
an empty, open store of the backend under test and closes it afterwards::

    class TestMyStore(StoreConformance):
        @pytest.fixture
        def store(self, tmp_path: Path) -> Iterator[Store]:
            s = MyStore(...)
            yield s
            s.close()

The data is small and hand-made: unit vectors of dimension 8, entity mentions with real
offsets, relations. Chunk ids are whatever the backend assigns; the helpers find them through
``chunk_records`` and check that they found every chunk the store counts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt
import pytest

from cairn.errors import NotFoundError, StoreError
from cairn.kb.protocol import Store
from cairn.kb.types import (
    ChunkIn,
    ChunkRecord,
    Consent,
    DocumentIn,
    EntityMention,
    Provenance,
    RelationIn,
    ScoredChunk,
    Source,
    StoreStats,
)
from cairn.search.types import SearchFilters

DIM = 8
MODEL = "conformance-embedder-v1"
NO_FILTERS = SearchFilters()
_ID_SCAN = 5000  # fresh stores number their chunks below this

Vec = npt.NDArray[np.float32]


# -- building test data ------------------------------------------------------------------------
def unit(*weights: float) -> Vec:
    """A unit vector of dimension DIM whose first components are ``weights`` (normalised)."""
    v = np.zeros(DIM, dtype=np.float32)
    v[: len(weights)] = weights
    return (v / np.linalg.norm(v)).astype(np.float32)


def axis(i: int) -> Vec:
    v = np.zeros(DIM, dtype=np.float32)
    v[i] = 1.0
    return v


def vec_bytes(v: Vec) -> bytes:
    return np.asarray(v, dtype="<f4").tobytes()


@dataclass(frozen=True)
class C:
    """A chunk to write: text, optional vector, entities as (surface, label), relations."""

    text: str
    vector: Vec | None = None
    entities: Sequence[tuple[str, str]] = ()
    relations: Sequence[tuple[str, str, str]] = ()


def doc(
    doc_key: str, title: str | None, *chunks: C, metadata: dict[str, str] | None = None
) -> DocumentIn:
    """A document whose text is its chunks joined by single spaces, with true offsets."""
    text = " ".join(c.text for c in chunks)
    out: list[ChunkIn] = []
    pos = 0
    for c in chunks:
        start, end = pos, pos + len(c.text)
        assert text[start:end] == c.text
        mentions = []
        for name, label in c.entities:
            at = c.text.index(name)
            mentions.append(EntityMention(name, label, start + at, start + at + len(name)))
        out.append(
            ChunkIn(
                start=start,
                end=end,
                text=c.text,
                vector=None if c.vector is None else vec_bytes(c.vector),
                entities=mentions,
                relations=[RelationIn(s, p, o) for s, p, o in c.relations],
            )
        )
        pos = end + 1
    return DocumentIn(doc_key, title, text, out, dict(metadata or {}))


def write(
    store: Store,
    uri: str,
    *docs: DocumentIn,
    collection: str = "default",
    license: str | None = None,
    source_url: str | None = None,
    owner: str | None = None,
    consent: Consent = Consent.unknown,
    model: str = MODEL,
) -> Source:
    body = "\n".join(d.text for d in docs).encode()
    return store.write_source(
        uri,
        content_hash=hashlib.sha256(body).hexdigest(),
        size_bytes=len(body),
        provenance=Provenance(collection, license, source_url, owner, consent),
        documents=list(docs),
        embedding_model=model,
    )


def all_records(store: Store) -> list[ChunkRecord]:
    records = store.chunk_records(list(range(1, _ID_SCAN)))
    assert len(records) == store.stats().chunks, "chunk ids outside the scanned range"
    return records


def chunk_id(store: Store, text_start: str) -> int:
    """The id of the one stored chunk whose text starts with ``text_start``."""
    found = [r.chunk_id for r in all_records(store) if r.text.startswith(text_start)]
    assert len(found) == 1, f"{len(found)} chunks start with {text_start!r}"
    return found[0]


def ids(hits: Sequence[ScoredChunk]) -> list[int]:
    return [h.chunk_id for h in hits]


def uris(store: Store, hits: Sequence[ScoredChunk]) -> set[str]:
    return {r.source_uri for r in store.chunk_records(ids(hits))}


def assert_descending(hits: Sequence[ScoredChunk]) -> None:
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True), scores


# -- a small corpus: three sources, four documents, seven chunks -------------------------------
LOVELACE = "/corpus/lovelace.txt"
BABBAGE = "/corpus/babbage.txt"
KINGFISHER = "https://example.org/birds/kingfisher.html"

L0 = "Ada Lovelace wrote the first published algorithm for the Analytical Engine."
L1 = "She corresponded with Charles Babbage while living in London."
B0 = "Charles Babbage designed the Difference Engine and the Analytical Engine."
B1 = "Babbage lived in London for most of his life."
B2 = "His mechanical calculators were never finished."
K0 = "The kingfisher dives into the river to catch small fish."
K1 = "Kingfishers nest in burrows along river banks."


@dataclass
class Corpus:
    lovelace: Source
    babbage: Source
    kingfisher: Source
    chunk: dict[str, int] = field(default_factory=dict)  # "L0" -> chunk id


def write_corpus(store: Store) -> Corpus:
    lovelace = write(
        store,
        LOVELACE,
        doc(
            "lovelace",
            "Ada Lovelace",
            C(
                L0,
                axis(0),
                [("Ada Lovelace", "PERSON"), ("Analytical Engine", "ORG")],
                [("ada lovelace", "wrote_for", "analytical engine")],
            ),
            C(
                L1,
                axis(1),
                [("Charles Babbage", "PERSON"), ("London", "GPE")],
                [("charles babbage", "located_in", "london")],
            ),
            metadata={"lang": "en"},
        ),
        collection="history",
        license="CC-BY-4.0",
        source_url="https://example.org/lovelace",
        owner="ada",
        consent=Consent.granted,
    )
    babbage = write(
        store,
        BABBAGE,
        doc(
            "babbage-1",
            "Charles Babbage",
            C(
                B0,
                axis(2),
                [
                    ("Charles Babbage", "PERSON"),
                    ("Difference Engine", "ORG"),
                    ("Analytical Engine", "ORG"),
                ],
            ),
            C(B1, axis(3), [("London", "GPE")]),
        ),
        doc("babbage-2", None, C(B2, axis(4))),
        collection="history",
        license="MIT",
    )
    kingfisher = write(
        store,
        KINGFISHER,
        doc("kingfisher", "Kingfisher", C(K0, axis(5)), C(K1, axis(6))),
        collection="nature",
        consent=Consent.refused,
    )
    corpus = Corpus(lovelace, babbage, kingfisher)
    by_text = {r.text: r.chunk_id for r in all_records(store)}
    for name, text in (
        ("L0", L0),
        ("L1", L1),
        ("B0", B0),
        ("B1", B1),
        ("B2", B2),
        ("K0", K0),
        ("K1", K1),
    ):
        corpus.chunk[name] = by_text[text]
    return corpus


class StoreConformance:
    """Tests every backend must pass. Subclasses provide a ``store`` fixture (empty, open)."""

    @pytest.fixture
    def corpus(self, store: Store) -> Corpus:
        return write_corpus(store)

    # -- the protocol itself -------------------------------------------------------------------
    def test_is_a_store(self, store: Store) -> None:
        assert isinstance(store, Store)

    def test_empty_store(self, store: Store) -> None:
        assert store.stats() == StoreStats(0, 0, 0, 0, 0, 0)
        assert store.list_sources() == []
        assert store.get_source(LOVELACE) is None
        assert store.get_source(1) is None
        assert store.embedding_model() is None
        assert store.keyword_search(["anything"], 10, NO_FILTERS) == []
        assert store.dense_search(axis(0), 10, NO_FILTERS) == []
        assert store.entity_search(["london"], 10, NO_FILTERS) == []
        assert store.match_entities("London") == []
        assert store.chunk_records([1, 2, 3]) == []
        assert store.chunk_entities([1, 2, 3]) == {}

    # -- write_source / get_source -------------------------------------------------------------
    def test_write_returns_source_with_provenance_and_counts(self, store: Store) -> None:
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

    def test_get_source_by_id_uri_and_source_url(self, store: Store, corpus: Corpus) -> None:
        lov = corpus.lovelace
        assert store.get_source(lov.id) == lov
        assert store.get_source(str(lov.id)) == lov
        assert store.get_source(LOVELACE) == lov
        assert store.get_source("https://example.org/lovelace") == lov
        assert store.get_source(KINGFISHER) == corpus.kingfisher  # a URL as the uri
        assert store.get_source("/corpus/none.txt") is None
        assert store.get_source(999_999) is None

    def test_source_counts(self, store: Store, corpus: Corpus) -> None:
        assert (corpus.lovelace.n_documents, corpus.lovelace.n_chunks) == (1, 2)
        assert (corpus.babbage.n_documents, corpus.babbage.n_chunks) == (2, 3)
        assert (corpus.kingfisher.n_documents, corpus.kingfisher.n_chunks) == (1, 2)
        empty = write(store, "/corpus/empty.txt")
        assert (empty.n_documents, empty.n_chunks) == (0, 0)
        assert store.get_source("/corpus/empty.txt") == empty

    def test_stats(self, store: Store, corpus: Corpus) -> None:
        # entities: ada lovelace, analytical engine, charles babbage, london, difference engine
        assert store.stats() == StoreStats(
            sources=3, documents=4, chunks=7, vectors=7, entities=5, relations=2
        )

    def test_chunks_without_vectors(self, store: Store) -> None:
        write(store, "/v/a", doc("a", None, C("with a vector", axis(0)), C("without one")))
        assert store.stats().chunks == 2
        assert store.stats().vectors == 1
        without = chunk_id(store, "without")
        assert without not in ids(store.dense_search(axis(0), 10, NO_FILTERS))
        assert [without] == ids(store.keyword_search(["without"], 10, NO_FILTERS))

    def test_text_round_trips(self, store: Store) -> None:
        text = "Zürich café: naïve façade — 東京 ünïcödé\n\tand a tab."
        write(store, "/u/zurich", doc("z", "Ünïcode", C(text, axis(0))))
        (rec,) = all_records(store)
        assert rec.text == text
        assert rec.title == "Ünïcode"
        assert store.document_text(rec.document_id) == text

    def test_replace_removes_old_derived_data(self, store: Store, corpus: Corpus) -> None:
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

    def test_replace_keeps_entities_other_sources_use(self, store: Store, corpus: Corpus) -> None:
        write(store, LOVELACE, doc("lovelace", "Ada", C("Nothing named here.", axis(0))))
        keys = store.match_entities("Ada Lovelace, Charles Babbage, the Analytical Engine")
        assert keys == ["analytical engine", "charles babbage"]  # still in babbage.txt
        assert ids(store.entity_search(["charles babbage"], 10, NO_FILTERS)) == [corpus.chunk["B0"]]
        assert store.stats().relations == 0

    def test_failed_write_leaves_previous_version(self, store: Store, corpus: Corpus) -> None:
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

    # -- list_sources / update_provenance ------------------------------------------------------
    def test_list_sources(self, store: Store, corpus: Corpus) -> None:
        all_ = store.list_sources()
        assert [s.uri for s in all_] == [LOVELACE, BABBAGE, KINGFISHER]
        assert all_ == [corpus.lovelace, corpus.babbage, corpus.kingfisher]
        assert [s.uri for s in store.list_sources("history")] == [LOVELACE, BABBAGE]
        assert store.list_sources("nature") == [corpus.kingfisher]
        assert store.list_sources("nowhere") == []

    def test_update_provenance(self, store: Store, corpus: Corpus) -> None:
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

    def test_update_provenance_can_clear_fields(self, store: Store, corpus: Corpus) -> None:
        cleared = store.update_provenance(corpus.lovelace.id, Provenance())
        assert cleared.provenance == Provenance("default", None, None, None, Consent.unknown)
        assert store.get_source("https://example.org/lovelace") is None

    # -- keyword_search ------------------------------------------------------------------------
    def test_keyword_finds_and_limits(self, store: Store, corpus: Corpus) -> None:
        hits = store.keyword_search(["babbage"], 10, NO_FILTERS)
        # B0 and B1 match in text and title; B2's document has no title and its text no name
        assert set(ids(hits)) == {corpus.chunk[c] for c in ("L1", "B0", "B1")}
        assert_descending(hits)
        assert len(store.keyword_search(["babbage"], 2, NO_FILTERS)) == 2
        assert store.keyword_search(["babbage"], 0, NO_FILTERS) == []
        assert store.keyword_search(["xylophone"], 10, NO_FILTERS) == []
        assert store.keyword_search([], 10, NO_FILTERS) == []
        assert store.keyword_search(["", "  "], 10, NO_FILTERS) == []

    def test_keyword_or_semantics(self, store: Store, corpus: Corpus) -> None:
        hits = store.keyword_search(["lovelace", "kingfisher", "xylophone"], 10, NO_FILTERS)
        assert uris(store, hits) == {LOVELACE, KINGFISHER}
        assert set(ids(hits)) == {corpus.chunk[c] for c in ("L0", "L1", "K0", "K1")}

    def test_keyword_matches_title(self, store: Store, corpus: Corpus) -> None:
        # L1's text never says "Ada"; its document's title does
        hits = store.keyword_search(["ada"], 10, NO_FILTERS)
        assert set(ids(hits)) == {corpus.chunk["L0"], corpus.chunk["L1"]}

    def test_keyword_stems(self, store: Store, corpus: Corpus) -> None:
        hits = store.keyword_search(["designs"], 10, NO_FILTERS)
        assert ids(hits) == [corpus.chunk["B0"]]

    def test_keyword_odd_terms_do_not_break(self, store: Store, corpus: Corpus) -> None:
        odd = ['"river', "AND", "NOT", "OR", "*", "(", "river)", "london's", "a:b", "-x", "'"]
        hits = store.keyword_search(odd, 10, NO_FILTERS)
        assert {corpus.chunk["K0"], corpus.chunk["K1"]} <= set(ids(hits))

    def test_keyword_filters(self, store: Store, corpus: Corpus) -> None:
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

    def test_keyword_bm25_ordering(self, store: Store) -> None:
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

    # -- dense_search --------------------------------------------------------------------------
    def test_dense_nearest_first(self, store: Store, corpus: Corpus) -> None:
        hits = store.dense_search(axis(1), 10, NO_FILTERS)
        assert hits[0].chunk_id == corpus.chunk["L1"]
        assert hits[0].score == pytest.approx(1.0, abs=1e-4)
        assert len(hits) == 7
        assert_descending(hits)
        q = unit(0.1, 0.9, 0.4)
        hits = store.dense_search(q, 3, NO_FILTERS)
        assert ids(hits) == [corpus.chunk["L1"], corpus.chunk["B0"], corpus.chunk["L0"]]
        assert [h.score for h in hits] == pytest.approx([q[1], q[2], q[0]], abs=1e-4)

    def test_dense_filters(self, store: Store, corpus: Corpus) -> None:
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

    def test_dense_exact_against_brute_force(self, store: Store) -> None:
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

    # -- entities ------------------------------------------------------------------------------
    def test_entity_search_scores_rarity(self, store: Store, corpus: Corpus) -> None:
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

    def test_entity_search_filters(self, store: Store, corpus: Corpus) -> None:
        keys = ["london", "charles babbage", "analytical engine"]
        mit = store.entity_search(keys, 10, SearchFilters(licenses=("MIT",)))
        assert set(ids(mit)) == {corpus.chunk["B0"], corpus.chunk["B1"]}
        granted = store.entity_search(keys, 10, SearchFilters(consent=("granted",)))
        assert set(ids(granted)) == {corpus.chunk["L0"], corpus.chunk["L1"]}
        assert store.entity_search(keys, 10, SearchFilters(collections=("nature",))) == []

    def test_match_entities(self, store: Store, corpus: Corpus) -> None:
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

    def test_chunk_entities(self, store: Store, corpus: Corpus) -> None:
        c = corpus.chunk
        out = store.chunk_entities([c["L1"], c["B0"], c["B2"], 999_999])
        assert {k: sorted(v) for k, v in out.items()} == {
            c["L1"]: ["charles babbage", "london"],
            c["B0"]: ["analytical engine", "charles babbage", "difference engine"],
        }
        assert store.chunk_entities([]) == {}

    def test_chunk_entities_lists_each_key_once(self, store: Store) -> None:
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

    # -- chunk_records / document_text ---------------------------------------------------------
    def test_chunk_records_order_and_missing(self, store: Store, corpus: Corpus) -> None:
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

    def test_document_text_and_offsets(self, store: Store, corpus: Corpus) -> None:
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

    # -- embedding model -----------------------------------------------------------------------
    def test_embedding_model_is_recorded(self, store: Store) -> None:
        write(store, "/m/novec", doc("n", None, C("no vectors here")), model="whatever")
        assert store.embedding_model() is None  # no vectors, nothing recorded
        write(store, "/m/a", doc("a", None, C("alpha", axis(0))))
        assert store.embedding_model() == MODEL

    def test_embedding_model_mismatch(self, store: Store, corpus: Corpus) -> None:
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

    # -- forget_source -------------------------------------------------------------------------
    def test_forget_removes_everything(self, store: Store, corpus: Corpus) -> None:
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

    def test_forget_by_id_and_by_source_url(self, store: Store, corpus: Corpus) -> None:
        assert store.forget_source(corpus.babbage.id).uri == BABBAGE
        assert store.forget_source(str(corpus.kingfisher.id)).uri == KINGFISHER
        assert store.forget_source("https://example.org/lovelace").uri == LOVELACE
        assert store.stats() == StoreStats(0, 0, 0, 0, 0, 0)
        assert store.dense_search(axis(0), 10, NO_FILTERS) == []

    def test_forget_unknown(self, store: Store, corpus: Corpus) -> None:
        with pytest.raises(NotFoundError):
            store.forget_source("/corpus/none.txt")
        with pytest.raises(NotFoundError):
            store.forget_source(999_999)
        store.forget_source(LOVELACE)
        with pytest.raises(NotFoundError):
            store.forget_source(LOVELACE)
        assert store.stats().sources == 2

    def test_keep_same_writes_nothing_when_the_content_is_stored(
        self, store: Store, corpus: Corpus
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

    def test_huge_or_odd_ids_are_not_found(self, store: Store, corpus: Corpus) -> None:
        for ref in (10**22, "99999999999999999999999", 2**63, "\u00b2", -1):
            assert store.get_source(ref) is None
            with pytest.raises(NotFoundError):
                store.forget_source(ref)
        assert store.stats().sources == 3

    def test_source_ids_are_never_reused(self, store: Store, corpus: Corpus) -> None:
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

    def test_write_again_after_forget(self, store: Store, corpus: Corpus) -> None:
        store.forget_source(KINGFISHER)
        again = write(store, KINGFISHER, doc("kf", "Kingfisher", C(K0, axis(5))))
        assert store.get_source(KINGFISHER) == again
        assert uris(store, store.keyword_search(["kingfisher"], 10, NO_FILTERS)) == {KINGFISHER}
        assert ids(store.dense_search(axis(5), 1, NO_FILTERS)) == [chunk_id(store, K0)]

    # -- run log -------------------------------------------------------------------------------
    def test_runs_round_trip(self, store: Store) -> None:
        assert store.list_runs() == []
        run = {
            "started_at": "2025-01-02T03:04:05.006+00:00",
            "finished_at": "2025-01-02T03:04:06.500+00:00",
            "status": "ok",
            "request": "Who built the lighthouse? \u00e9\u4e2d",
            "events": [{"type": "stage-start", "stage": "stt", "data": {}, "t": 1.5}],
            "result": {"answer": "Margaret Hale [1]", "citations": [{"n": 1, "quote": "x\u0000y"}]},
        }
        run_id = store.save_run(run)
        assert isinstance(run_id, int)
        got = store.get_run(run_id)
        assert got == {"id": run_id, **run}
        assert store.list_runs() == [got]
        assert store.get_run(run_id + 1000) is None
        assert store.get_run(2**70) is None

    def test_forgetting_a_source_forgets_runs_that_cite_it(
        self, store: Store, corpus: Corpus
    ) -> None:
        citing = store.save_run(
            {"status": "ok", "result": {"citations": [{"source": LOVELACE, "quote": "Ada"}]}}
        )
        other = store.save_run(
            {"status": "ok", "result": {"citations": [{"source": KINGFISHER, "quote": "bird"}]}}
        )
        store.forget_source(LOVELACE)
        assert store.get_run(citing) is None
        assert store.get_run(other) is not None

    def test_forget_run(self, store: Store) -> None:
        kept = store.save_run({"status": "ok", "request": "kept"})
        gone = store.save_run({"status": "ok", "request": "remember that the code is 4471"})
        assert store.forget_run(gone) is True
        assert store.get_run(gone) is None and store.get_run(kept) is not None
        assert store.forget_run(gone) is False
        assert store.forget_run(2**70) is False

    def test_runs_newest_first_and_limit(self, store: Store) -> None:
        ids_ = [
            store.save_run({"started_at": 1_700_000_000 + i, "status": "ok", "request": f"r{i}"})
            for i in range(5)
        ]
        listed = store.list_runs(limit=3)
        assert [r["id"] for r in listed] == ids_[::-1][:3]
        assert listed[0]["request"] == "r4"
        assert listed[0]["started_at"].startswith("2023-11-14T22:13:24")
        assert listed[0]["finished_at"] is None
        assert listed[0]["events"] == [] and listed[0]["result"] == {}
        assert store.list_runs(limit=0) == []

    def test_runs_reject_bad_input_and_leave_sources_alone(self, store: Store) -> None:
        with pytest.raises(StoreError):
            store.save_run({"request": "no status"})
        with pytest.raises(StoreError):
            store.save_run({"status": "ok", "events": "not a list"})
        store.save_run({"status": "error", "request": None})
        assert store.stats() == StoreStats(0, 0, 0, 0, 0, 0)
        assert store.list_sources() == []

    # -- records from API calls, and stored tools -------------------------------------------------
    def test_add_records_writes_a_searchable_source(self, store: Store) -> None:
        rows = [{"year": 2020, "value": 1.5, "city": "Quokkaville"}, {"year": 2021, "value": 2}]
        request = {"url": "http://api.example/series", "params": {"q": "x"}}
        src = store.add_records(
            "api://stats/series/2024-01-01T00:00:00Z",
            Provenance("api", None, "http://api.example/series", None, Consent.granted),
            "stats.series",
            request,
            rows,
        )
        assert src.uri == "api://stats/series/2024-01-01T00:00:00Z"
        assert src.provenance.collection == "api"
        assert src.n_documents == 1 and src.n_chunks == 1
        got = store.list_records()
        assert [r["data"] for r in got] == rows
        assert [list(r["data"]) for r in got] == [["year", "value", "city"], ["year", "value"]]
        assert {r["operation"] for r in got} == {"stats.series"}
        assert all(r["request"] == request and r["source_id"] == src.id for r in got)
        assert got[0]["requested_at"] == got[1]["requested_at"]
        (hit,) = store.keyword_search(["quokkaville"], 5, NO_FILTERS)
        (rec,) = store.chunk_records([hit.chunk_id])
        assert rec.source_uri == src.uri
        assert "year: 2020; value: 1.5; city: Quokkaville" in rec.text
        assert store.stats().vectors == 0

    def test_add_records_with_vectors_filter_and_limit(self, store: Store) -> None:
        text = "n: 1"
        document = DocumentIn("records", "t", text, [ChunkIn(0, 4, text, vec_bytes(axis(3)))])
        prov = Provenance("api")
        store.add_records(
            "api://a/one/1",
            prov,
            "a.one",
            {},
            [{"n": 1}],
            documents=[document],
            embedding_model=MODEL,
        )
        store.add_records(
            "api://a/two/1",
            prov,
            "a.two",
            {},
            [{"n": i} for i in range(5)],
            requested_at="2024-05-01T10:00:00+00:00",
        )
        assert store.embedding_model() == MODEL
        assert store.dense_search(axis(3), 1, NO_FILTERS)[0].chunk_id == chunk_id(store, "n: 1")
        assert [r["data"] for r in store.list_records("a.one")] == [{"n": 1}]
        two = store.list_records("a.two", limit=3)
        assert [r["data"]["n"] for r in two] == [0, 1, 2]
        assert two[0]["requested_at"] == "2024-05-01T10:00:00+00:00"
        assert len(store.list_records()) == 6
        assert store.list_records("nothing") == []
        with pytest.raises(StoreError):
            store.add_records("api://bad", prov, "bad", {}, ["not an object"])  # type: ignore[list-item]
        assert store.get_source("api://bad") is None

    def test_forgetting_a_records_source_removes_its_records(self, store: Store) -> None:
        prov = Provenance("api")
        one = store.add_records("api://x/a/1", prov, "x.a", {}, [{"word": "zanzibarian"}])
        store.add_records("api://x/a/2", prov, "x.a", {}, [{"word": "kept"}])
        store.forget_source(one.uri)
        assert [r["data"] for r in store.list_records()] == [{"word": "kept"}]
        assert store.keyword_search(["zanzibarian"], 5, NO_FILTERS) == []
        # writing the same URI again replaces the records too
        store.add_records("api://x/a/2", prov, "x.a", {}, [{"word": "new"}, {"word": "newer"}])
        assert [r["data"]["word"] for r in store.list_records()] == ["new", "newer"]

    # -- export (for `cairn migrate`) ------------------------------------------------------------
    def test_source_documents_round_trip(self, store: Store) -> None:
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

    def test_source_records_and_runs_after(self, store: Store) -> None:
        one = store.add_records("api://r/1", Provenance("api"), "r.op", {"q": 1}, [{"a": 1}])
        two = store.add_records("api://r/2", Provenance("api"), "r.op", {}, [{"b": 2}, {"c": 3}])
        assert [r["data"] for r in store.source_records(one.id)] == [{"a": 1}]
        got = store.source_records(two.id)
        assert [r["data"] for r in got] == [{"b": 2}, {"c": 3}]
        assert got == [r for r in store.list_records() if r["source_id"] == two.id]
        assert store.source_records(two.id + 1000) == []
        ids_ = [store.save_run({"status": "ok", "request": f"r{i}"}) for i in range(5)]
        assert [r["id"] for r in store.runs_after(0, 2)] == ids_[:2]
        assert [r["request"] for r in store.runs_after(ids_[1], 10)] == ["r2", "r3", "r4"]
        assert store.runs_after(ids_[-1]) == []

    def test_tools_round_trip(self, store: Store) -> None:
        assert store.list_tools() == [] and store.get_tool("weather") is None
        saved = store.save_tool("weather", '{"openapi": "3.1.0"}', ["api.example"], "https://a/")
        assert saved.name == "weather" and saved.allowed_hosts == ("api.example",)
        assert store.get_tool("weather") == saved
        again = store.save_tool("weather", "{}", ["a", "b"], "https://b/")
        assert (again.spec_json, again.allowed_hosts, again.base_url) == (
            "{}",
            ("a", "b"),
            "https://b/",
        )
        store.save_tool("atlas", "{}", [], "https://c/")
        assert [t.name for t in store.list_tools()] == ["atlas", "weather"]
        assert again.private_hosts == ()

    def test_tool_private_hosts_round_trip(self, store: Store) -> None:
        saved = store.save_tool(
            "local", "{}", ["127.0.0.1"], "http://127.0.0.1:8000/", ["127.0.0.1:8000"]
        )
        assert saved.private_hosts == ("127.0.0.1:8000",)
        assert store.get_tool("local") == saved
        assert store.list_tools()[0].private_hosts == ("127.0.0.1:8000",)
        cleared = store.save_tool("local", "{}", ["127.0.0.1"], "http://127.0.0.1:8000/")
        assert cleared.private_hosts == ()
