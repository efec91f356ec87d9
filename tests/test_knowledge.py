"""The library API end to end on real SQLite, with deterministic fake models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cairn
from cairn.errors import ConfigError, NotFoundError, SearchError
from cairn.graph.extract import CapitalisedExtractor
from cairn.ingest.pipeline import Status
from cairn.knowledge import KnowledgeBase
from cairn.models.embed import HashingEmbedder

STEAM = (
    "The steam engine was improved by James Watt. Watt added a separate condenser in 1765.\n\n"
    "Thomas Newcomen built the first practical engine in 1712."
)
NORMANS = "The Normans came from Normandy in France. Rollo was their first ruler."
CORPUS = [
    {"_id": "doc-a", "title": "Packet switching", "text": "Paul Baran described packet switching."},
    {"_id": "doc-b", "title": "Circuits", "text": "Telephone networks used circuit switching."},
]


def make_kb(tmp_path: Path) -> KnowledgeBase:
    return cairn.open(
        tmp_path / "kb.sqlite", embedder=HashingEmbedder(), extractor=CapitalisedExtractor()
    )


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    d = tmp_path / "docs dir ü"
    d.mkdir()
    (d / "steam engine.txt").write_text(STEAM)
    (d / "normans.md").write_text("# Normans\n\n" + NORMANS)
    (d / "corpus.jsonl").write_text("\n".join(json.dumps(r) for r in CORPUS))
    return d


def test_ingest_then_search_cites_exact_offsets(tmp_path: Path, docs: Path) -> None:
    with make_kb(tmp_path) as kb:
        report = kb.ingest([docs], license="CC-BY-4.0", collection="wiki")
        assert report.count(Status.added) == 3 and not report.failed
        assert kb.stats().documents == 4
        hits = kb.search("separate condenser Watt", k=3)
        top = hits[0]
        assert top.chunk.title == "steam engine.txt" or "steam" in top.chunk.source_uri
        assert top.chunk.license == "CC-BY-4.0" and top.chunk.collection == "wiki"
        text = kb.document_text(top.chunk.document_id)
        assert text[top.chunk.start : top.chunk.end] == top.chunk.text
        assert top.highlight is not None
        s, e = top.highlight
        assert text[s:e] == "Watt added a separate condenser in 1765."


def test_jsonl_ids_are_kept_as_document_ids(tmp_path: Path, docs: Path) -> None:
    with make_kb(tmp_path) as kb:
        kb.ingest([docs / "corpus.jsonl"])
        hits = kb.search("Baran packet switching", k=2, mode="keyword")
        assert hits[0].chunk.doc_key == "doc-a"


@pytest.mark.parametrize("mode", ["keyword", "dense", "hybrid"])
def test_every_mode_finds_the_obvious_document(tmp_path: Path, docs: Path, mode: str) -> None:
    with make_kb(tmp_path) as kb:
        kb.ingest([docs])
        hits = kb.search("Normans Normandy Rollo ruler", k=4, mode=mode)
        assert "normans" in hits[0].chunk.source_uri
        assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
        assert mode in hits[0].signals or mode == "hybrid"


def test_reingest_skips_unchanged_and_replaces_changed(tmp_path: Path, docs: Path) -> None:
    with make_kb(tmp_path) as kb:
        kb.ingest([docs])
        chunks_before = kb.stats().chunks
        again = kb.ingest([docs])
        assert again.count(Status.unchanged) == 3 and again.chunks_embedded == 0
        (docs / "normans.md").write_text("# Normans\n\nCompletely new text about Vikings.")
        changed = kb.ingest([docs])
        assert changed.count(Status.updated) == 1 and changed.count(Status.unchanged) == 2
        assert kb.stats().chunks == chunks_before  # one chunk replaced by one chunk
        assert not kb.search("Rollo", k=5, mode="keyword")
        assert kb.search("Vikings", k=5, mode="keyword")


def test_new_provenance_relabels_without_reembedding(tmp_path: Path, docs: Path) -> None:
    with make_kb(tmp_path) as kb:
        kb.ingest([docs / "normans.md"], license="MIT")
        r = kb.ingest([docs / "normans.md"], license="CC-BY-SA-4.0", consent="granted")
        assert r.count(Status.relabelled) == 1 and r.chunks_embedded == 0
        (src,) = kb.sources()
        assert src.provenance.license == "CC-BY-SA-4.0"
        assert src.provenance.consent.value == "granted"


def test_duplicates_and_bad_files_do_not_stop_the_batch(tmp_path: Path, docs: Path) -> None:
    (docs / "copy of normans.md").write_text("# Normans\n\n" + NORMANS)
    (docs / "empty.txt").write_text("")
    (docs / "junk.txt").write_bytes(b"\x00\x01\x02binary\x00" * 50)
    (docs / "latin.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    with make_kb(tmp_path) as kb:
        report = kb.ingest([docs, tmp_path / "missing.txt"])
        by_status = {o.path.rsplit("/", 1)[-1]: o for o in report.outcomes}
        pair = {by_status["copy of normans.md"].status, by_status["normans.md"].status}
        assert pair == {Status.added, Status.duplicate}  # the first in path order is kept
        failed = {o.path.rsplit("/", 1)[-1]: o.code for o in report.failed}
        assert failed == {
            "empty.txt": "empty",
            "junk.txt": "binary",
            "latin.txt": "encoding",
            "broken.pdf": "bad-pdf",
            "missing.txt": "not-found",
        }
        assert all(o.message and o.path in o.message for o in report.failed)
        assert report.count(Status.added) == 3
        fixed = kb.ingest([docs / "latin.txt"], encoding="latin-1")
        assert fixed.count(Status.added) == 1
        assert kb.search("café", k=1, mode="keyword")


def test_file_over_the_size_limit_is_refused(tmp_path: Path, docs: Path) -> None:
    big = docs / "big.txt"
    big.write_text("word " * 50_000)
    with make_kb(tmp_path) as kb:
        report = kb.ingest([big], max_bytes=100_000)
        assert [o.code for o in report.failed] == ["too-large"]
        assert kb.stats().sources == 0


def test_filters_by_collection_and_licence(tmp_path: Path, docs: Path) -> None:
    with make_kb(tmp_path) as kb:
        kb.ingest([docs / "steam engine.txt"], collection="a", license="MIT")
        kb.ingest([docs / "normans.md"], collection="b", license="CC-BY-4.0")
        q = "the first"
        assert {h.chunk.collection for h in kb.search(q, collections=["b"])} == {"b"}
        assert {h.chunk.license for h in kb.search(q, licenses=["mit"])} == {"MIT"}
        assert kb.search(q, collections=["nothing"]) == []
        with pytest.raises(ConfigError):
            kb.search(q, licenses=["Not-A-Licence"])


def test_forget_removes_everything_derived(tmp_path: Path, docs: Path) -> None:
    with make_kb(tmp_path) as kb:
        kb.ingest([docs])
        before = kb.stats()
        gone = kb.forget(str(docs / "normans.md"))
        assert gone.n_documents == 1
        after = kb.stats()
        assert after.sources == before.sources - 1
        assert after.chunks == after.vectors
        for mode in ("keyword", "dense", "hybrid"):
            assert all(
                "normans" not in h.chunk.source_uri for h in kb.search("Rollo Normandy", mode=mode)
            )
        assert "rollo" not in kb.store.match_entities("Rollo")
        with pytest.raises(NotFoundError):
            kb.forget(str(docs / "normans.md"))


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "empty-query"),
        ("   ", "empty-query"),
        ("?!...", "no-terms"),
        ("x" * 10_000, "query-too-long"),
    ],
)
def test_unusable_queries_get_clear_errors(tmp_path: Path, query: str, code: str) -> None:
    with make_kb(tmp_path) as kb, pytest.raises(SearchError) as err:
        kb.search(query)
    assert err.value.code == code


def test_bad_search_arguments(tmp_path: Path) -> None:
    with make_kb(tmp_path) as kb:
        with pytest.raises(SearchError, match="--mode"):
            kb.search("x", mode="fuzzy")
        with pytest.raises(SearchError, match="--k"):
            kb.search("x", k=0)


def test_empty_knowledge_base_returns_nothing(tmp_path: Path) -> None:
    with make_kb(tmp_path) as kb:
        assert kb.search("anything at all") == []
