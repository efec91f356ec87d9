"""BFCL (Berkeley Function Calling Leaderboard) through Cairn's schema-grounded understanding.

Each BFCL item's function documents become :class:`~cairn.command.operations.OperationDoc`
candidates, exactly as a registered tool's operations are; the request goes through
:class:`~cairn.command.schema_match.OperationIndex`; the chosen call (or no call) is scored by
BFCL's own AST checker (``bfcl_eval.eval_checker.ast_eval.ast_checker``), and irrelevance
items pass when no call is made (BFCL's ``is_empty_output``).

The data and checker come from the PyPI package ``bfcl-eval==2026.3.23`` (Apache-2.0),
installed ``--no-deps`` for the benchmark only. Its checker imports
``bfcl_eval.constants.model_config``, which pulls vendor SDKs; a stub module that says "keep
dots in function names" stands in for it.

Halves: ids whose trailing number is even are the *dev* half (weights and threshold were set
on it), odd ids the *report* half.

The clock: requests are read as of :data:`BFCL_TODAY` (2023-01-01), not the machine's date.
BFCL's requests were written for 2023: their labels put a date said without its year ("on
March 9th") in 2023, which a reader on a later "today" puts in a later year. The harness sets
the date the data was written for, as a test freezes time; Cairn itself reads dates as of
the real today.
"""

from __future__ import annotations

import importlib
import json
import statistics
import sys
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from cairn.command.operations import OperationDoc, from_function_doc
from cairn.command.schema_match import Encoder, Match, OperationIndex
from cairn.errors import CairnError

CATEGORIES = {
    "simple": "simple_python",
    "multiple": "multiple",
    "irrelevance": "irrelevance",
    "live_simple": "live_simple",
    "live_multiple": "live_multiple",
    "live_irrelevance": "live_irrelevance",
}
HALVES = ("dev", "report", "all")
BFCL_TODAY = date(2023, 1, 1)  # the year BFCL's labels put dates said without a year in
_MODEL = "cairn-fast-path"
INSTALL_HINT = "pip install --no-deps bfcl-eval==2026.3.23"


class FunctionEvalError(CairnError):
    """The benchmark cannot run (package missing, unknown category or half)."""


@dataclass
class CategoryScore:
    name: str
    n: int = 0
    correct: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0

    def as_dict(self) -> dict[str, Any]:
        p50 = statistics.median(self.latencies_ms) if self.latencies_ms else 0.0
        return {
            "category": self.name,
            "n": self.n,
            "correct": self.correct,
            "accuracy": round(self.accuracy, 4),
            "p50_ms": round(p50, 2),
        }


def _data_dir() -> Path:
    try:
        spec = importlib.util.find_spec("bfcl_eval")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise FunctionEvalError(
            "missing-package", f"the BFCL data is not installed: {INSTALL_HINT}"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _checker() -> Callable[..., dict[str, Any]]:
    name = "bfcl_eval.constants.model_config"
    if name not in sys.modules:
        stub = types.ModuleType(name)

        class _Config:
            underscore_to_dot = False

        class _Mapping(dict[str, Any]):
            def __missing__(self, key: str) -> _Config:
                return _Config()

        stub.MODEL_CONFIG_MAPPING = _Mapping()  # type: ignore[attr-defined]
        sys.modules[name] = stub
    module = importlib.import_module("bfcl_eval.eval_checker.ast_eval.ast_checker")
    return module.ast_checker  # type: ignore[no-any-return]


def _half_of(item_id: str) -> str:
    tail = item_id.rsplit("_", 1)[-1].split("-")[0]
    return "dev" if tail.isdigit() and int(tail) % 2 == 0 else "report"


def load_items(category: str, half: str = "report") -> Iterator[tuple[dict[str, Any], Any]]:
    """BFCL items of ``category`` in ``half``, each with its possible answer (or None)."""
    if category not in CATEGORIES:
        raise FunctionEvalError(
            "unknown-category", f"unknown category {category!r}; use: {', '.join(CATEGORIES)}"
        )
    if half not in HALVES:
        raise FunctionEvalError("unknown-half", f"unknown half {half!r}; use: {', '.join(HALVES)}")
    folder = _data_dir()
    stem = f"BFCL_v4_{CATEGORIES[category]}.json"
    answers: dict[str, Any] = {}
    answer_file = folder / "possible_answer" / stem
    if answer_file.exists():
        for line in answer_file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                answers[row["id"]] = row["ground_truth"]
    for line in (folder / stem).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        if half != "all" and _half_of(item["id"]) != half:
            continue
        yield item, answers.get(item["id"])


def _request(item: dict[str, Any]) -> str:
    turns = item["question"][0] if item["question"] else []
    users = [t["content"] for t in turns if t.get("role") == "user"]
    return str(users[-1]) if users else ""


def index_for(item: dict[str, Any], encoder: Encoder | None) -> OperationIndex:
    """The item's function documents as candidates, their vectors computed (as a registered
    tool's are, once, when it is added)."""
    ops: list[OperationDoc] = [from_function_doc(f) for f in item["function"]]
    index = OperationIndex(ops, encoder)
    index.prepare()
    return index


def predict(
    item: dict[str, Any],
    encoder: Encoder | None,
    threshold: float | None = None,
    today: date = BFCL_TODAY,
) -> list[dict[str, dict[str, Any]]]:
    """The call Cairn makes for one BFCL item, in BFCL's decoded form (``[]``: no call)."""
    return _decoded(
        index_for(item, encoder).match(_request(item), today=today, threshold=threshold)
    )


def _decoded(match: Match) -> list[dict[str, dict[str, Any]]]:
    if match.command is None or match.command.intent != "call_api" or match.best is None:
        return []
    return [{match.best.op.name: dict(match.best.filled.values)}]


def score_category(
    category: str,
    half: str,
    encoder: Encoder | None,
    *,
    threshold: float | None = None,
    limit: int | None = None,
    today: date = BFCL_TODAY,
) -> CategoryScore:
    checker = _checker()
    from bfcl_eval.constants.enums import Language  # type: ignore[import-untyped]

    score = CategoryScore(category)
    for n, (item, answer) in enumerate(load_items(category, half)):
        if limit is not None and n >= limit:
            break
        index = index_for(item, encoder)
        began = time.perf_counter()
        match = index.match(_request(item), today=today, threshold=threshold)
        score.latencies_ms.append((time.perf_counter() - began) * 1000)
        output = _decoded(match)
        if "irrelevance" in category:
            ok = not output
            detail: Any = output
        else:
            result = checker(
                item["function"], output, answer, Language.PYTHON, CATEGORIES[category], _MODEL
            )
            ok = bool(result.get("valid"))
            detail = {"got": output, "want": answer, "error": result.get("error")}
        score.n += 1
        score.correct += ok
        if not ok:
            score.errors.append({"id": item["id"], "request": _request(item), **{"detail": detail}})
    return score
