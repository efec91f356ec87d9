"""BEIR-layout loading, and the bm25s peer. Fixtures are built in tmp_path only."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from cairn.errors import ConfigError, ModelError
from cairn_eval.beir import BeirDataset, iter_corpus, load_beir, read_qrels
from cairn_eval.peers import Bm25sPeer, run_peer

HEADER = "query-id\tcorpus-id\tscore\n"

CORPUS = [
    {"_id": "d1", "title": "Statins", "text": "Statins lower cholesterol in adults."},
    {"_id": "d2", "title": "", "text": "Vitamin D and bone density in older women."},
    {"_id": "d3", "text": "Fried foods and cancer risk."},  # no title
]


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def beir_dir(tmp_path: Path) -> Path:
    """Plain BEIR layout: corpus.jsonl, queries.jsonl (all splits), qrels/{test,dev}.tsv."""
    root = tmp_path / "mini"
    root.mkdir()
    _jsonl(root / "corpus.jsonl", CORPUS)
    _jsonl(
        root / "queries.jsonl",
        [
            {"_id": "1", "text": "do statins lower cholesterol", "metadata": {}},
            {"_id": "2", "text": "vitamin d bones"},
            {"_id": "3", "text": "a training query"},
        ],
    )
    _write(root / "qrels" / "test.tsv", HEADER + "1\td1\t2\n2\td2\t1\n2\td3\t0\n")
    _write(root / "qrels" / "dev.tsv", HEADER + "3\td3\t1\n")
    return root


def test_load_plain_beir_layout(beir_dir: Path) -> None:
    ds = load_beir(beir_dir)
    assert isinstance(ds, BeirDataset)
    assert ds.corpus_path == beir_dir / "corpus.jsonl"
    # only the queries judged in qrels/test.tsv; the header line is skipped
    assert ds.queries == {"1": "do statins lower cholesterol", "2": "vitamin d bones"}
    assert ds.qrels == {"1": {"d1": 2}, "2": {"d2": 1, "d3": 0}}

    dev = load_beir(beir_dir, "dev")
    assert dev.queries == {"3": "a training query"}
    assert dev.qrels == {"3": {"d3": 1}}


def test_iter_corpus_reads_title_and_text(beir_dir: Path) -> None:
    assert list(iter_corpus(beir_dir / "corpus.jsonl")) == [
        ("d1", "Statins", "Statins lower cholesterol in adults."),
        ("d2", "", "Vitamin D and bone density in older women."),
        ("d3", "", "Fried foods and cancer risk."),
    ]


def test_load_per_split_layout(tmp_path: Path) -> None:
    """NFCorpus-style: corpus_<split>.jsonl, queries_<split>.jsonl, qrels/<split>.tsv."""
    root = tmp_path / "nf"
    root.mkdir()
    _jsonl(root / "corpus_test.jsonl", CORPUS[:2])
    _jsonl(root / "corpus_dev.jsonl", CORPUS[2:])
    _jsonl(root / "queries_test.jsonl", [{"_id": "PLAIN-2", "text": "statins"}])
    _jsonl(root / "queries_dev.jsonl", [{"_id": "PLAIN-1", "text": "fried food"}])
    _write(root / "qrels" / "test.tsv", HEADER + "PLAIN-2\td1\t2\nPLAIN-2\td2\t1\n")
    _write(root / "qrels" / "dev.tsv", HEADER + "PLAIN-1\td3\t2\n")

    test = load_beir(root, "test")
    assert test.corpus_path == root / "corpus_test.jsonl"
    assert test.queries == {"PLAIN-2": "statins"}
    assert test.qrels == {"PLAIN-2": {"d1": 2, "d2": 1}}
    dev = load_beir(root, "dev")
    assert dev.corpus_path == root / "corpus_dev.jsonl"
    assert dev.queries == {"PLAIN-1": "fried food"}


def test_split_queries_file_wins_and_is_filtered(beir_dir: Path) -> None:
    # SciFact ships both queries.jsonl (all claims) and queries_test.jsonl
    _jsonl(
        beir_dir / "queries_test.jsonl",
        [
            {"_id": "1", "text": "statins (split file)"},
            {"_id": "2", "text": "vitamin d (split file)"},
            {"_id": "9", "text": "not judged"},
        ],
    )
    ds = load_beir(beir_dir, "test")
    assert ds.queries == {"1": "statins (split file)", "2": "vitamin d (split file)"}
    assert ds.corpus_path == beir_dir / "corpus.jsonl"


def _bad_dir(excinfo: pytest.ExceptionInfo[ConfigError]) -> str:
    assert excinfo.value.code == "bad-beir-dir"
    return excinfo.value.message


def test_missing_corpus_names_expected_files(beir_dir: Path) -> None:
    (beir_dir / "corpus.jsonl").unlink()
    with pytest.raises(ConfigError) as excinfo:
        load_beir(beir_dir)
    msg = _bad_dir(excinfo)
    assert "corpus_test.jsonl" in msg and "corpus.jsonl" in msg and str(beir_dir) in msg


def test_missing_queries_names_expected_files(beir_dir: Path) -> None:
    (beir_dir / "queries.jsonl").unlink()
    with pytest.raises(ConfigError) as excinfo:
        load_beir(beir_dir)
    msg = _bad_dir(excinfo)
    assert "queries_test.jsonl" in msg and "queries.jsonl" in msg


def test_missing_qrels_split_lists_available_splits(beir_dir: Path) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_beir(beir_dir, "train")
    msg = _bad_dir(excinfo)
    assert "qrels/train.tsv" in msg and "dev, test" in msg


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_beir(tmp_path / "nope")
    assert "not a folder" in _bad_dir(excinfo)


@pytest.mark.parametrize("split", ["", "../test", "a/b", ".hidden"])
def test_bad_split_name(beir_dir: Path, split: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_beir(beir_dir, split)
    assert "split" in _bad_dir(excinfo)


def test_judged_query_without_text_is_an_error(beir_dir: Path) -> None:
    _write(beir_dir / "qrels" / "test.tsv", HEADER + "1\td1\t1\n77\td2\t1\n")
    with pytest.raises(ConfigError) as excinfo:
        load_beir(beir_dir)
    msg = _bad_dir(excinfo)
    assert "77" in msg and "queries.jsonl" in msg


def test_empty_qrels_is_an_error(beir_dir: Path) -> None:
    _write(beir_dir / "qrels" / "test.tsv", HEADER)
    with pytest.raises(ConfigError) as excinfo:
        load_beir(beir_dir)
    assert "no judgments" in _bad_dir(excinfo)


def test_read_qrels_without_header_and_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "q.tsv"
    _write(path, "q1\td1\t1\n\nq1\td1\t2\nq1\td2\t1\r\nq2\td1\t0\nq1\td1\t1\n")
    # no header; a blank line is skipped; a pair judged twice keeps its highest grade
    assert read_qrels(path) == {"q1": {"d1": 2, "d2": 1}, "q2": {"d1": 0}}


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("q1\td1\n", "expected 3 tab-separated fields"),
        ("q1 d1 1\n", "expected 3 tab-separated fields"),
        ("q1\td1\t1\nq2\td2\thigh\n", ":2: score 'high' is not an integer"),
        (HEADER + HEADER, ":2: score 'score' is not an integer"),
    ],
)
def test_malformed_qrels(tmp_path: Path, body: str, needle: str) -> None:
    path = tmp_path / "q.tsv"
    _write(path, body)
    with pytest.raises(ConfigError) as excinfo:
        read_qrels(path)
    assert needle in _bad_dir(excinfo)


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("{not json", ":2: not a JSON object"),
        ('["a list"]', ':2: expected an object with "_id"'),
        ('{"text": "no id"}', ':2: expected an object with "_id"'),
        ('{"_id": "x", "text": 3}', ':2: "text" must be a string'),
    ],
)
def test_malformed_jsonl(beir_dir: Path, line: str, needle: str) -> None:
    path = beir_dir / "queries.jsonl"
    _write(path, '{"_id": "1", "text": "ok"}\n' + line + "\n")
    with pytest.raises(ConfigError) as excinfo:
        load_beir(beir_dir)
    assert needle in _bad_dir(excinfo)


def test_non_utf8_file(beir_dir: Path) -> None:
    (beir_dir / "corpus.jsonl").write_bytes(b'{"_id": "d1", "text": "caf\xe9"}\n')
    with pytest.raises(ConfigError) as excinfo:
        list(iter_corpus(beir_dir / "corpus.jsonl"))
    assert "not UTF-8" in _bad_dir(excinfo)


def test_numeric_ids_become_strings(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    _jsonl(path, [{"_id": 4983, "title": None, "text": "t"}])
    assert list(iter_corpus(path)) == [("4983", "", "t")]


# --- bm25s peer -------------------------------------------------------------------------------

PEER_CORPUS = [
    ("d1", "Statins", "Statins lower cholesterol and reduce heart attacks."),
    ("d2", "Vitamin D", "Vitamin D supplements and bone density in older women."),
    ("d3", "", "Deep fried foods and the risk of cancer."),
    ("d4", "Running", "Running improves heart health."),
]


def test_bm25s_peer_ranks_by_term_match() -> None:
    pytest.importorskip("bm25s")
    pytest.importorskip("Stemmer")
    peer = Bm25sPeer(PEER_CORPUS)
    assert len(peer) == 4
    assert peer.search("statin cholesterol", 3)[0] == "d1"  # stemming: statin ~ statins
    assert peer.search("fried food cancer", 10) == ["d3"]  # docs without a shared term are dropped
    assert peer.search("heart", 10)[:2] in (["d4", "d1"], ["d1", "d4"])
    assert peer.search("vitamin bones", 1) == ["d2"]  # title is indexed; k cuts the list
    assert peer.search("the of and", 10) == []  # only stop-words
    assert peer.search("zzzz", 10) == []  # no term in the vocabulary
    assert peer.search("", 10) == []
    with pytest.raises(ValueError):
        peer.search("heart", 0)


def test_bm25s_peer_empty_corpus() -> None:
    pytest.importorskip("bm25s")
    pytest.importorskip("Stemmer")
    with pytest.raises(ConfigError) as excinfo:
        Bm25sPeer([])
    assert excinfo.value.code == "empty-corpus"


@pytest.mark.parametrize("module", ["bm25s", "Stemmer"])
def test_bm25s_peer_missing_package(monkeypatch: pytest.MonkeyPatch, module: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    with pytest.raises(ModelError) as excinfo:
        Bm25sPeer(PEER_CORPUS)
    assert excinfo.value.code == "missing-package"
    assert "pip install bm25s PyStemmer" in excinfo.value.message
    assert module in excinfo.value.message


class _FakePeer:
    name = "fake"

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def search(self, query: str, k: int) -> list[str]:
        self.calls.append((query, k))
        return [f"{query}-{i}" for i in range(k)]


def test_run_peer_collects_run_and_latencies() -> None:
    peer = _FakePeer()
    run, latencies = run_peer(peer, {"q2": "b", "q1": "a"}, 2)
    assert run == {"q2": ["b-0", "b-1"], "q1": ["a-0", "a-1"]}
    assert list(run) == ["q2", "q1"]
    assert peer.calls == [("b", 2), ("a", 2)]
    assert len(latencies) == 2 and all(ms >= 0.0 for ms in latencies)


def test_run_peer_end_to_end_with_beir(beir_dir: Path) -> None:
    pytest.importorskip("bm25s")
    pytest.importorskip("Stemmer")
    from cairn_eval.metrics import evaluate_run

    ds = load_beir(beir_dir)
    peer = Bm25sPeer(iter_corpus(ds.corpus_path))
    run, latencies = run_peer(peer, ds.queries, 10)
    assert set(run) == set(ds.queries) and len(latencies) == len(ds.queries)
    metrics = evaluate_run(run, ds.qrels, ks=(1, 10))
    # q1 -> d1 (grade 2) at rank 1; q2 -> d2 (grade 1) at rank 1
    assert metrics["ndcg@10"] == pytest.approx(1.0)
    assert metrics["mrr@1"] == pytest.approx(1.0)
