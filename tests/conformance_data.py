"""Test data and helpers shared by the store conformance suites (``conformance_*.py``).

The data is small and hand-made: unit vectors of dimension 8, entity mentions with real
offsets, relations. Chunk ids are whatever the backend assigns; the helpers find them through
``chunk_records`` and check that they found every chunk the store counts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt
import pytest

from cairn.kb.protocol import DocumentStore, EntityStore, RecordStore, RetrievalStore, RunLog
from cairn.kb.types import (
    ChunkIn,
    ChunkRecord,
    Consent,
    DocumentIn,
    EntityMention,
    Provenance,
    RelationIn,
    ScoredChunk,
    SearchFilters,
    Source,
)

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
    store: DocumentStore,
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


def all_records(store: DocumentStore) -> list[ChunkRecord]:
    records = store.chunk_records(list(range(1, _ID_SCAN)))
    assert len(records) == store.stats().chunks, "chunk ids outside the scanned range"
    return records


def chunk_id(store: DocumentStore, text_start: str) -> int:
    """The id of the one stored chunk whose text starts with ``text_start``."""
    found = [r.chunk_id for r in all_records(store) if r.text.startswith(text_start)]
    assert len(found) == 1, f"{len(found)} chunks start with {text_start!r}"
    return found[0]


def ids(hits: Sequence[ScoredChunk]) -> list[int]:
    return [h.chunk_id for h in hits]


def uris(store: DocumentStore, hits: Sequence[ScoredChunk]) -> set[str]:
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


def write_corpus(store: DocumentStore) -> Corpus:
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


# -- what each suite needs of a backend (search is over the documents a store holds) ------------
class SearchableDocuments(DocumentStore, RetrievalStore, Protocol):
    """Documents and search over them: what every backend provides."""


class GraphStore(SearchableDocuments, EntityStore, Protocol):
    """Searchable documents with the entity graph."""


class RecordingStore(SearchableDocuments, RecordStore, Protocol):
    """Searchable documents with API records and tools."""


class LoggingStore(DocumentStore, RunLog, Protocol):
    """Documents with the run log (forgetting a source forgets runs that cite it)."""


class ConformanceBase:
    """The fixtures every suite shares. Subclasses get ``store`` from the backend's test module."""

    @pytest.fixture
    def corpus(self, store: DocumentStore) -> Corpus:
        return write_corpus(store)
