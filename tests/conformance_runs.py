"""Store conformance for :class:`RunLog`: the run log; forgetting a source forgets the runs
that cite it.

Subclass :class:`RunLogConformance` in a backend's tests and give it a ``store`` fixture
(an empty, open store); ``store_conformance.StoreConformance`` runs every suite.
"""

from __future__ import annotations

import pytest

from cairn.errors import StoreError
from cairn.kb.protocol import RunLog
from cairn.kb.types import (
    StoreStats,
)
from conformance_data import (
    KINGFISHER,
    LOVELACE,
    ConformanceBase,
    Corpus,
    LoggingStore,
)


class RunLogConformance(ConformanceBase):
    """The run log (:class:`RunLog`); forgetting a source forgets the runs that cite it."""

    def test_is_a_run_log(self, store: LoggingStore) -> None:
        assert isinstance(store, RunLog)

    def test_runs_round_trip(self, store: LoggingStore) -> None:
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
        self, store: LoggingStore, corpus: Corpus
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

    def test_forget_run(self, store: LoggingStore) -> None:
        kept = store.save_run({"status": "ok", "request": "kept"})
        gone = store.save_run({"status": "ok", "request": "remember that the code is 4471"})
        assert store.forget_run(gone) is True
        assert store.get_run(gone) is None and store.get_run(kept) is not None
        assert store.forget_run(gone) is False
        assert store.forget_run(2**70) is False

    def test_runs_newest_first_and_limit(self, store: LoggingStore) -> None:
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

    def test_runs_reject_bad_input_and_leave_sources_alone(self, store: LoggingStore) -> None:
        with pytest.raises(StoreError):
            store.save_run({"request": "no status"})
        with pytest.raises(StoreError):
            store.save_run({"status": "ok", "events": "not a list"})
        store.save_run({"status": "error", "request": None})
        assert store.stats() == StoreStats(0, 0, 0, 0, 0, 0)
        assert store.list_sources() == []

    def test_runs_after(self, store: LoggingStore) -> None:
        ids_ = [store.save_run({"status": "ok", "request": f"r{i}"}) for i in range(5)]
        assert [r["id"] for r in store.runs_after(0, 2)] == ids_[:2]
        assert [r["request"] for r in store.runs_after(ids_[1], 10)] == ["r2", "r3", "r4"]
        assert store.runs_after(ids_[-1]) == []
