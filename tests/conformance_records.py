"""Store conformance for :class:`RecordStore`: records from API calls, imported API tools.

Subclass :class:`RecordStoreConformance` in a backend's tests and give it a ``store`` fixture
(an empty, open store); ``store_conformance.StoreConformance`` runs every suite.
"""

from __future__ import annotations

import pytest

from cairn.errors import StoreError
from cairn.kb.protocol import RecordStore
from cairn.kb.types import (
    ChunkIn,
    Consent,
    DocumentIn,
    Provenance,
)
from conformance_data import (
    MODEL,
    NO_FILTERS,
    ConformanceBase,
    RecordingStore,
    axis,
    chunk_id,
    vec_bytes,
)


class RecordStoreConformance(ConformanceBase):
    """Records from API calls and the imported API tools (:class:`RecordStore`)."""

    def test_is_a_record_store(self, store: RecordingStore) -> None:
        assert isinstance(store, RecordStore)

    def test_add_records_writes_a_searchable_source(self, store: RecordingStore) -> None:
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

    def test_add_records_with_vectors_filter_and_limit(self, store: RecordingStore) -> None:
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

    def test_forgetting_a_records_source_removes_its_records(self, store: RecordingStore) -> None:
        prov = Provenance("api")
        one = store.add_records("api://x/a/1", prov, "x.a", {}, [{"word": "zanzibarian"}])
        store.add_records("api://x/a/2", prov, "x.a", {}, [{"word": "kept"}])
        store.forget_source(one.uri)
        assert [r["data"] for r in store.list_records()] == [{"word": "kept"}]
        assert store.keyword_search(["zanzibarian"], 5, NO_FILTERS) == []
        # writing the same URI again replaces the records too
        store.add_records("api://x/a/2", prov, "x.a", {}, [{"word": "new"}, {"word": "newer"}])
        assert [r["data"]["word"] for r in store.list_records()] == ["new", "newer"]

    def test_tools_round_trip(self, store: RecordingStore) -> None:
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

    def test_tool_private_hosts_round_trip(self, store: RecordingStore) -> None:
        saved = store.save_tool(
            "local", "{}", ["127.0.0.1"], "http://127.0.0.1:8000/", ["127.0.0.1:8000"]
        )
        assert saved.private_hosts == ("127.0.0.1:8000",)
        assert store.get_tool("local") == saved
        assert store.list_tools()[0].private_hosts == ("127.0.0.1:8000",)
        cleared = store.save_tool("local", "{}", ["127.0.0.1"], "http://127.0.0.1:8000/")
        assert cleared.private_hosts == ()

    def test_source_records(self, store: RecordingStore) -> None:
        one = store.add_records("api://r/1", Provenance("api"), "r.op", {"q": 1}, [{"a": 1}])
        two = store.add_records("api://r/2", Provenance("api"), "r.op", {}, [{"b": 2}, {"c": 3}])
        assert [r["data"] for r in store.source_records(one.id)] == [{"a": 1}]
        got = store.source_records(two.id)
        assert [r["data"] for r in got] == [{"b": 2}, {"c": 3}]
        assert got == [r for r in store.list_records() if r["source_id"] == two.id]
        assert store.source_records(two.id + 1000) == []
