"""Plain typed values that cross the store boundary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cairn.errors import StoreError


class Consent(StrEnum):
    granted = "granted"
    refused = "refused"
    unknown = "unknown"


@dataclass(frozen=True)
class Provenance:
    """Where a source came from and on what terms it may be used."""

    collection: str = "default"
    license: str | None = None  # SPDX id or expression, validated at the boundary
    source_url: str | None = None
    owner: str | None = None
    consent: Consent = Consent.unknown


@dataclass(frozen=True)
class Source:
    id: int
    uri: str  # absolute path or URL: what the user names it by
    content_hash: str
    provenance: Provenance
    ingested_at: str  # ISO 8601 UTC
    n_documents: int = 0
    n_chunks: int = 0
    size_bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The source as `cairn sources --json` and `GET /api/sources` show it."""
        return {
            "id": self.id,
            "uri": self.uri,
            "collection": self.provenance.collection,
            "license": self.provenance.license,
            "consent": self.provenance.consent.value,
            "owner": self.provenance.owner,
            "source_url": self.provenance.source_url,
            "ingested_at": self.ingested_at,
            "documents": self.n_documents,
            "chunks": self.n_chunks,
            "content_hash": self.content_hash,
        }


@dataclass(frozen=True)
class DocumentIn:
    """A document ready to be written: text plus its chunks, vectors and graph facts."""

    doc_key: str  # stable id within the source (a JSONL record's _id / id, or a path)
    title: str | None
    text: str
    chunks: list[ChunkIn]
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ChunkIn:
    start: int  # character offsets into DocumentIn.text
    end: int
    text: str
    vector: bytes | None = None  # float32 little-endian, len = dim * 4
    entities: list[EntityMention] = field(default_factory=list)
    relations: list[RelationIn] = field(default_factory=list)


@dataclass(frozen=True)
class EntityMention:
    name: str  # surface form as it appears
    label: str  # spaCy label: PERSON, ORG, GPE, DATE, ...
    start: int  # offsets into the document text
    end: int

    @property
    def key(self) -> str:
        return normalise_entity(self.name)


def normalise_entity(name: str) -> str:
    return " ".join(name.lower().split()).removeprefix("the ")


@dataclass(frozen=True)
class RelationIn:
    subject: str  # normalised entity key; must be among the chunk's entities
    predicate: str
    object: str


@dataclass(frozen=True)
class ChunkRecord:
    """A stored chunk, with enough context to cite it."""

    chunk_id: int
    document_id: int
    doc_key: str
    title: str | None
    source_id: int
    source_uri: str
    collection: str
    license: str | None
    consent: Consent
    start: int
    end: int
    text: str


def chunk_record_from_row(r: Sequence[Any]) -> ChunkRecord:
    """A row of (chunk id, document id, doc key, title, source id, source uri, collection,
    licence, consent, start, end, text), as every backend selects it."""
    return ChunkRecord(
        chunk_id=int(r[0]),
        document_id=int(r[1]),
        doc_key=str(r[2]),
        title=r[3],
        source_id=int(r[4]),
        source_uri=str(r[5]),
        collection=str(r[6]),
        license=r[7],
        consent=Consent(r[8]),
        start=int(r[9]),
        end=int(r[10]),
        text=str(r[11]),
    )


@dataclass(frozen=True)
class ScoredChunk:
    chunk_id: int
    score: float


@dataclass(frozen=True)
class StoreStats:
    sources: int
    documents: int
    chunks: int
    vectors: int
    entities: int
    relations: int


def source_id_of(ref: str | int) -> int | None:
    """``ref`` as a source id when it can be one (an int, or ASCII digits, within SQL's 64-bit
    range); None otherwise (then it is a path or URL, or no source at all)."""
    if isinstance(ref, bool):
        return None
    if isinstance(ref, str):
        text = ref.strip()
        if not (text.isascii() and text.isdigit()):
            return None
        ref = int(text)
    return ref if 0 < ref < 2**63 else None


def same_content(row: Sequence[Any] | None, uri: str, content_hash: str) -> None:
    """For ``write_source(keep_same=True)``: StoreError ``kb-same-content`` when ``row`` (the
    stored ``content_hash`` at ``uri``, or None) already holds ``content_hash``."""
    if row is not None and str(row[0]) == content_hash:
        raise StoreError(
            "kb-same-content", f"{uri}: written meanwhile by another ingest; kept as is"
        )


@dataclass(frozen=True)
class SearchFilters:
    """Which chunks a search may return, by their source's provenance (empty: any)."""

    collections: tuple[str, ...] = ()
    licenses: tuple[str, ...] = ()  # SPDX ids; a chunk matches when its source's licence is one
    consent: tuple[str, ...] = ()  # e.g. ("granted", "unknown") to exclude refused sources
