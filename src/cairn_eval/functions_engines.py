"""BFCL through the three tool engines in one run: fast path, LLM alone, hybrid.

For each item of an evenly spaced sample of a category's half, the fast path's match is
computed; with an LLM, the model is asked once over every function of the item (``llm``: the
LLM alone, as the same-run peer) and once over the fast path's front runners (what the hybrid
asks when the fast path is unsure; the same prompt is not asked twice). Decoding is greedy,
so the hybrid's answer on an item routed to the LLM is exactly that second reply; the hybrid's
latency is the fast path's plus the LLM's on routed items only. Every answer is scored by
BFCL's own checker (see :mod:`cairn_eval.functions`).

Each item also yields a :class:`ItemRecord` (the fast path's best score and whether each
engine was right) from which :func:`fit_cutoffs` chooses the hybrid's cut-offs: run it on the
dev (even) half only, and report on the other.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from cairn.command.schema_match import Encoder
from cairn.command.tool_hybrid import (
    DEFAULT_CUTOFFS,
    Cutoffs,
    Mode,
    fast_is_sure,
    llm_candidates,
)
from cairn.command.tool_llm import ToolCallEngine, ToolReply
from cairn_eval.functions import (
    BFCL_TODAY,
    CATEGORIES,
    _checker,
    _decoded,
    _request,
    index_for,
    load_items,
)

ENGINES = ("fast", "llm", "hybrid")


def sample(items: Sequence[Any], n: int | None) -> list[Any]:
    """``n`` items evenly spaced over ``items`` (all of them when ``n`` is None or larger)."""
    if n is None or n >= len(items):
        return list(items)
    if n <= 0:
        return []
    return [items[(i * len(items)) // n] for i in range(n)]


@dataclass
class ItemRecord:
    """One item: the fast path's confidence and each engine's outcome."""

    id: str
    category: str
    fast_score: float
    fast_called: bool
    fast_ok: bool
    llm_ok: bool | None = None  # the LLM over every function
    topk_ok: bool | None = None  # the LLM over the fast path's front runners (+ its fallback)
    fast_ms: float = 0.0
    llm_ms: float = 0.0
    topk_ms: float = 0.0
    routed: bool = False  # the hybrid (at the cut-offs used) asked the LLM
    # the call gate's p(an operation fits), what the cut-offs apply to (None: records made
    # before the gate, whose cut-offs apply to fast_score)
    fast_p: float | None = None
    # the fast path answered (a call or a question); None in older records, read as fast_called
    fast_answered: bool | None = None
    hybrid_ok: bool | None = None
    llm_problem: str = ""


@dataclass
class EngineScore:
    engine: str
    category: str
    n: int = 0
    correct: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        p50 = statistics.median(self.latencies_ms) if self.latencies_ms else 0.0
        return {
            "engine": self.engine,
            "category": self.category,
            "n": self.n,
            "correct": self.correct,
            "accuracy": round(self.correct / self.n, 4) if self.n else 0.0,
            "p50_ms": round(p50, 1),
        }


def _reply_output(reply: ToolReply) -> list[dict[str, dict[str, Any]]]:
    if reply.op is None or reply.problem:
        return []
    return [{reply.op.name: dict(reply.arguments)}]


def run_engines(
    category: str,
    half: str,
    encoder: Encoder | None,
    engine: ToolCallEngine | None,
    *,
    engines: Iterable[str] = ENGINES,
    cutoffs: Cutoffs = DEFAULT_CUTOFFS,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[EngineScore], list[ItemRecord]]:
    """Each asked engine's score on an evenly spaced sample of ``limit`` items."""
    wanted = set(engines)
    if wanted - set(ENGINES):
        raise ValueError(f"unknown engines {sorted(wanted - set(ENGINES))}")
    if wanted - {"fast"} and engine is None:
        raise ValueError("the llm and hybrid engines need a language model")
    checker = _checker()
    from bfcl_eval.constants.enums import Language  # type: ignore[import-untyped]

    items = sample(list(load_items(category, half)), limit)
    scores = {e: EngineScore(e, category) for e in ENGINES if e in wanted}
    records: list[ItemRecord] = []

    def right(item: dict[str, Any], answer: Any, output: list[Any]) -> bool:
        if "irrelevance" in category:
            return not output
        result = checker(
            item["function"], output, answer, Language.PYTHON, CATEGORIES[category], "cairn"
        )
        return bool(result.get("valid"))

    for n, (item, answer) in enumerate(items):
        rec, sure = _one_item(item, answer, category, encoder, engine, wanted, cutoffs, right)
        for name, score in scores.items():
            ok, ms = {
                "fast": (rec.fast_ok, rec.fast_ms),
                "llm": (rec.llm_ok, rec.llm_ms),
                "hybrid": (rec.hybrid_ok, rec.fast_ms + (0.0 if sure else rec.topk_ms)),
            }[name]
            score.n += 1
            score.correct += bool(ok)
            score.latencies_ms.append(ms)
        records.append(rec)
        if progress is not None:
            progress(n + 1, len(items))
    return list(scores.values()), records


def _one_item(
    item: dict[str, Any],
    answer: Any,
    category: str,
    encoder: Encoder | None,
    engine: ToolCallEngine | None,
    wanted: set[str],
    cutoffs: Cutoffs,
    right: Callable[[dict[str, Any], Any, list[Any]], bool],
) -> tuple[ItemRecord, bool]:
    text = _request(item)
    index = index_for(item, encoder)
    began = time.perf_counter()
    match = index.match(text, today=BFCL_TODAY)
    fast_ms = (time.perf_counter() - began) * 1000
    fast_out = _decoded(match)
    best = match.best
    rec = ItemRecord(
        id=item["id"],
        category=category,
        fast_score=round(best.score, 4) if best else 0.0,
        fast_p=None if match.relevance is None else round(match.relevance, 4),
        fast_called=bool(fast_out),
        fast_answered=match.command is not None,
        fast_ok=right(item, answer, fast_out),
        fast_ms=fast_ms,
    )
    sure = fast_is_sure(match, cutoffs)
    rec.routed = not sure
    asked: dict[tuple[str, ...], tuple[ToolReply, float]] = {}

    def ask(mode: Mode) -> tuple[ToolReply, float]:
        assert engine is not None
        ops = llm_candidates(index, match, engine.max_candidates, mode)
        key = tuple(op.key for op in ops)
        if key not in asked:
            t0 = time.perf_counter()
            reply = engine.choose(text, ops)
            asked[key] = (reply, (time.perf_counter() - t0) * 1000)
        return asked[key]

    if "llm" in wanted:
        reply, rec.llm_ms = ask("llm")
        rec.llm_ok = right(item, answer, _reply_output(reply))
        rec.llm_problem = reply.problem
    if "hybrid" in wanted and (not sure or "llm" in wanted):
        # with every engine asked, the front-runner reply is computed on every item, so that
        # the cut-offs can be fitted from the records
        reply, rec.topk_ms = ask("hybrid")
        fallback = bool(reply.problem) and not reply.missing
        rec.topk_ok = rec.fast_ok if fallback else right(item, answer, _reply_output(reply))
    if "hybrid" in wanted:
        rec.hybrid_ok = rec.fast_ok if sure else rec.topk_ok
    return rec, sure


def category_accuracy(
    records: Sequence[ItemRecord], cutoffs: Cutoffs, llm_rate: float | None = None
) -> dict[str, float]:
    """The hybrid's accuracy per category at ``cutoffs``: from each record's ``topk_ok``, or
    where the LLM was not run, its expected accuracy ``llm_rate``."""
    by_cat: dict[str, list[float]] = {}
    for r in records:
        if not routed_at(r, cutoffs):
            ok = float(r.fast_ok)
        elif r.topk_ok is None and llm_rate is not None:
            ok = llm_rate
        else:
            ok = float(bool(r.topk_ok))
        by_cat.setdefault(r.category, []).append(ok)
    return {cat: sum(v) / len(v) for cat, v in by_cat.items()}


def hybrid_accuracy(
    records: Sequence[ItemRecord], cutoffs: Cutoffs, llm_rate: float | None = None
) -> float:
    """Mean over categories of the hybrid's accuracy at ``cutoffs`` (:func:`category_accuracy`)."""
    per = category_accuracy(records, cutoffs, llm_rate)
    return statistics.fmean(per.values()) if per else 0.0


def fit_cutoffs(
    records: Sequence[ItemRecord],
    llm_rate: float | None = None,
    min_irrelevance: float | None = None,
) -> tuple[Cutoffs, float]:
    """The cut-offs that maximise the mean per-category hybrid accuracy on ``records`` (the
    dev half), ties to the fewest LLM calls. Records without the LLM's answer count only with
    ``llm_rate``, the LLM's accuracy measured elsewhere on the same half. With
    ``min_irrelevance``, only cut-offs that keep every irrelevance category's hybrid accuracy at
    or above it (or at the fast path's own, where that is lower) are considered."""
    usable = [r for r in records if r.topk_ok is not None or llm_rate is not None]
    if not usable:
        raise ValueError("no records with the LLM's front-runner answer to fit on")
    floors: dict[str, float] = {}
    if min_irrelevance is not None:
        for cat in {r.category for r in usable if "irrelevance" in r.category}:
            mine = [r for r in usable if r.category == cat]
            fast = sum(r.fast_ok for r in mine) / len(mine)
            floors[cat] = min(min_irrelevance, fast)
    grid = [round(0.025 * i, 3) for i in range(0, 61)]
    best: tuple[float, int, Cutoffs] | None = None
    for call in grid:
        for none in grid:
            cut = Cutoffs(call=call, none=none)
            per = category_accuracy(usable, cut, llm_rate)
            if any(per[cat] < floor for cat, floor in floors.items()):
                continue
            acc = statistics.fmean(per.values())
            routed = sum(routed_at(r, cut) for r in usable)
            key = (round(acc, 6), -routed)
            if best is None or key > (round(best[0], 6), -best[1]):
                best = (acc, routed, cut)
    if best is None:
        raise ValueError(f"no cut-offs keep the irrelevance categories at {min_irrelevance}")
    return best[2], best[0]


def record_dicts(records: Iterable[ItemRecord]) -> list[dict[str, Any]]:
    return [asdict(r) for r in records]


def routed_at(record: ItemRecord, cutoffs: Cutoffs) -> bool:
    """Whether the hybrid at ``cutoffs`` asks the LLM on this item."""
    confidence = record.fast_score if record.fast_p is None else record.fast_p
    answered = record.fast_called if record.fast_answered is None else record.fast_answered
    if answered:  # as fast_is_sure reads a match
        return confidence < cutoffs.call
    return confidence > cutoffs.none


def rescore(records: Sequence[ItemRecord], cutoffs: Cutoffs) -> list[dict[str, Any]]:
    """Per category and engine, from records of an ``all`` run (greedy decoding: the hybrid's
    answer on a routed item is the recorded front-runner reply): n, correct, accuracy, p50 ms,
    and for the hybrid how many items went to the LLM."""
    rows: list[dict[str, Any]] = []
    for cat in dict.fromkeys(r.category for r in records):
        mine = [r for r in records if r.category == cat]
        routed = [routed_at(r, cutoffs) for r in mine]
        outcomes = {
            "fast": ([r.fast_ok for r in mine], [r.fast_ms for r in mine]),
            "llm": ([bool(r.llm_ok) for r in mine], [r.llm_ms for r in mine]),
            "hybrid": (
                [bool(r.topk_ok) if x else r.fast_ok for r, x in zip(mine, routed, strict=True)],
                [r.fast_ms + (r.topk_ms if x else 0.0) for r, x in zip(mine, routed, strict=True)],
            ),
        }
        for engine, (oks, ms) in outcomes.items():
            row = EngineScore(engine, cat, len(oks), sum(oks), list(ms)).as_dict()
            if engine == "hybrid":
                row["to_llm"] = sum(routed)
            rows.append(row)
    return rows
