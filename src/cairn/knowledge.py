"""The library API: ``cairn.open(path)`` returns a :class:`KnowledgeBase`.

The CLI and the server are thin layers over this class.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from cairn.errors import NotFoundError
from cairn.events import EventCallback, ignore
from cairn.graph.extract import EntityExtractor, SpacyExtractor
from cairn.ingest.chunker import ChunkerConfig
from cairn.ingest.file_reading import LoadOptions
from cairn.ingest.pipeline import IngestOptions, IngestReport, ingest_paths
from cairn.ingest.provenance import make_provenance, normalise_license
from cairn.kb.factory import open_store
from cairn.kb.protocol import Store
from cairn.kb.types import Consent, Source, StoreStats
from cairn.models.embed import Embedder, recorded_embedder
from cairn.search.engine import SearchConfig, search
from cairn.search.types import Mode, SearchFilters, SearchHit

if TYPE_CHECKING:
    from cairn.forgetting import Forgotten


class KnowledgeBase:
    """A store plus the models that fill and query it. Models load on first use."""

    def __init__(
        self,
        store: Store,
        *,
        embedder: Embedder | None = None,
        extractor: EntityExtractor | None = None,
        search_config: SearchConfig | None = None,
    ) -> None:
        self.store = store
        # called with each forgotten source, after it is gone (e.g. to drop cached answers)
        self.on_forget: list[Callable[[Source], None]] = []
        self._embedder = embedder
        self._extractor = extractor
        self.search_config = search_config or SearchConfig()

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:  # the one this knowledge base's vectors came from
            self._embedder = recorded_embedder(self.store.embedding_model())
        return self._embedder

    @property
    def extractor(self) -> EntityExtractor:
        if self._extractor is None:
            self._extractor = SpacyExtractor()
        return self._extractor

    # -- writing --------------------------------------------------------------------------
    def ingest(
        self,
        paths: Sequence[str | Path],
        *,
        collection: str = "default",
        license: str | None = None,
        source_url: str | None = None,
        owner: str | None = None,
        consent: str | Consent = Consent.unknown,
        graph: bool = True,
        max_bytes: int | None = None,
        encoding: str | None = None,
        chunker: ChunkerConfig | None = None,
        on_event: EventCallback = ignore,
    ) -> IngestReport:
        provenance = make_provenance(
            collection=collection,
            license=license,
            source_url=source_url,
            owner=owner,
            consent=consent,
        )
        load = LoadOptions() if max_bytes is None else LoadOptions(max_bytes=max_bytes)
        if encoding:
            load = LoadOptions(max_bytes=load.max_bytes, encoding=encoding)
        options = IngestOptions(
            provenance=provenance, load=load, chunker=chunker or ChunkerConfig(), graph=graph
        )
        return ingest_paths(
            self.store,
            self.embedder,
            paths,
            options,
            extractor=self.extractor if graph else None,
            on_event=on_event,
        )

    def forget(self, ref: str | int) -> Source:
        """Remove a source (by id, path or URL) and everything derived from it."""
        return self.forget_report(ref).source

    def forget_report(self, ref: str | int, *, own_folders: Sequence[Path] = ()) -> Forgotten:
        """:meth:`forget`, saying which of Cairn's own files went with the source (the note
        a "remember" stored, files of the runs that made or quoted it) and whether its text
        is still in the store's files for now (``pending``: why, and how to finish)."""
        from cairn.forgetting import forget_everywhere

        if isinstance(ref, str):
            if not ref.strip():
                raise NotFoundError(
                    "unknown-source",
                    "give a source id, path or URL to forget (see `cairn sources`)",
                )
            if not ref.isdigit() and Path(ref).expanduser().exists():
                ref = str(Path(ref).expanduser().resolve())
        return forget_everywhere(self, ref, own_folders=own_folders)

    # -- reading --------------------------------------------------------------------------
    def search(
        self,
        query: str,
        *,
        k: int = 10,
        mode: Mode | str = Mode.hybrid,
        collections: Sequence[str] = (),
        licenses: Sequence[str] = (),
        consent: Sequence[str] = (),
        per_document: bool = True,
        highlights: bool = True,
    ) -> list[SearchHit]:
        filters = SearchFilters(
            collections=tuple(collections),
            licenses=tuple(x for x in (normalise_license(v) for v in licenses) if x),
            consent=tuple(Consent(c).value for c in consent),
        )
        return search(
            self.store,
            self.embedder,
            query,
            k=k,
            mode=mode,
            filters=filters,
            per_document=per_document,
            highlights=highlights,
            config=self.search_config,
        )

    def sources(self, collection: str | None = None) -> list[Source]:
        return self.store.list_sources(collection)

    def document_text(self, document_id: int) -> str:
        return self.store.document_text(document_id)

    def stats(self) -> StoreStats:
        return self.store.stats()

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_kb(
    path: str | Path | None = None,
    *,
    embedder: Embedder | None = None,
    extractor: EntityExtractor | None = None,
    search_config: SearchConfig | None = None,
    must_exist: bool = False,
) -> KnowledgeBase:
    """Open (creating if needed) the knowledge base at ``path`` (default: ``$CAIRN_KB``).

    ``path`` is a SQLite file, or a ``postgresql://`` URL for the PostgreSQL backend.
    ``must_exist=True`` (for commands that only read or remove) creates nothing: a missing
    file is a ``kb-missing`` error.
    """
    store = open_store(path, create=not must_exist)
    return KnowledgeBase(store, embedder=embedder, extractor=extractor, search_config=search_config)
