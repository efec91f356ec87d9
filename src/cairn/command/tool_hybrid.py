"""The fast path decides when it is confident; otherwise the local LLM decides.

The fast path (:mod:`cairn.command.schema_match`) scores every registered operation and its
call gate (:mod:`cairn.command.call_gate`) gives the probability that one of them fits; that
probability is the fast path's confidence (its best score where no gate decided): a call (or
a clarifying question) at or above :attr:`Cutoffs.call`, or "no operation fits" at or below
:attr:`Cutoffs.none`, stands; otherwise the LLM
(:class:`~cairn.command.tool_llm.ToolCallEngine`) chooses among the fast path's front runners
under a grammar from their schemas. A reply the LLM gets wrong (not
JSON, an operation that is not a candidate, a value of the wrong type or outside its enum)
falls back to the fast path's answer; a reply that misses a required parameter becomes a
question naming it. Never a call the schema does not allow.

The cut-offs were fitted on the even (design) ids of BFCL's categories only; the odd ids are
what BENCHMARKS.md reports.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from cairn.command.model import Command
from cairn.command.operations import OperationDoc
from cairn.command.schema_match import _CHART, Match, OperationIndex
from cairn.command.spoken import digits
from cairn.command.tool_llm import ToolCallEngine, ToolReply

Mode = Literal["fast", "llm", "hybrid"]
MODES: tuple[str, ...] = ("fast", "llm", "hybrid")
LLM_CONFIDENCE = 0.6
# "llm" mode shows every operation up to this many (a prompt that fits the context and 2 cores);
# past it, the fast path's front runners (this many)
MAX_LLM_ALONE = 8


@dataclass(frozen=True)
class Cutoffs:
    """Where the fast path's confidence (:func:`fast_confidence`) makes it sure of itself."""

    call: float  # its call (or question) stands at or above this
    none: float  # its "no operation fits" stands at or below this


# Fitted on design data only (BENCHMARKS.md, "The hybrid routed on the call gate"): the records
# of `cairn eval functions --half dev --engine all --llm qwen1.5b --limit 30` (30 evenly spaced
# even-id items per category, Qwen2.5-Coder-1.5B) and the spoken set's design split (markets,
# nyair) typed through the hybrid, one more category; the pair that maximises the mean
# accuracy over the seven while each irrelevance category stays >= 0.83. A call or question
# the gate is less than 98% sure of goes to the LLM, which fills values the rules cannot; the
# gate's refusals always stand (the LLM calls something on most irrelevant requests).
DEFAULT_CUTOFFS = Cutoffs(call=0.98, none=1.0)


@dataclass
class Decision:
    """The outcome: the command (``None``: no operation fits), which engine decided, the fast
    path's match, the LLM's reply when it was asked, and how long it took."""

    command: Command | None
    route: str  # fast | llm | llm-fallback
    match: Match
    reply: ToolReply | None = None
    reason: str = ""
    llm_ms: float = 0.0

    def call(self) -> tuple[OperationDoc, dict[str, Any]] | None:
        """The operation called and its typed arguments (``None``: no call)."""
        if self.command is None or self.command.intent != "call_api":
            return None
        if self.reply is not None and self.route == "llm" and self.reply.op is not None:
            return self.reply.op, dict(self.reply.arguments)
        best = self.match.best
        return (best.op, dict(best.filled.values)) if best is not None else None


def fast_confidence(match: Match) -> float:
    """How sure the fast path is that an operation fits: the call gate's probability, or its
    best score where no gate decided (a threshold was given, or no gate is fitted)."""
    if match.relevance is not None:
        return match.relevance
    return match.best.score if match.best is not None else 0.0


def fast_is_sure(match: Match, cutoffs: Cutoffs) -> bool:
    """Whether the fast path's confidence makes its answer stand."""
    if match.best is None:
        return True
    if match.command is None:
        return fast_confidence(match) <= cutoffs.none
    return fast_confidence(match) >= cutoffs.call


def llm_candidates(index: OperationIndex, match: Match, k: int, mode: Mode) -> list[OperationDoc]:
    """The operations shown to the LLM, in registration order (a stable prompt prefix): the
    fast path's ``k`` front runners; in ``llm`` mode every operation when there are at most
    :data:`MAX_LLM_ALONE`, else that many front runners."""
    if mode == "llm" and len(index.ops) <= MAX_LLM_ALONE:
        return [op for op in index.ops if not op.unusable]
    front = {id(c.op) for c in match.candidates[: MAX_LLM_ALONE if mode == "llm" else k]}
    return [op for op in index.ops if id(op) in front and not op.unusable]


def ask_for(op: OperationDoc, name: str) -> str:
    p = next((x for x in op.params if x.name == name), None)
    words = p.words if p else name
    about = f" ({p.description.split('.')[0]})" if p and p.description else ""
    return f"To call {op.key} I need the {words}{about}. What should it be?"


def _from_reply(reply: ToolReply, text: str) -> Command | None:
    if reply.op is None:
        return None
    if reply.missing:
        return Command(
            intent="clarify",
            clarification=ask_for(reply.op, reply.missing),
            api_operation=reply.op.key,
            confidence=LLM_CONFIDENCE,
            engine="llm",
        )
    params = {
        k: json.dumps(v) if isinstance(v, list | dict) or v is None else v
        for k, v in reply.arguments.items()
    }
    return Command(
        intent="call_api",
        api_operation=reply.op.key,
        api_params=params,
        chart_kind="line" if _CHART.search(text) else None,
        confidence=LLM_CONFIDENCE,
        engine="llm",
    )


class HybridMatcher:
    """Maps a request onto registered operations with the fast path, the LLM, or both."""

    def __init__(
        self,
        engine: ToolCallEngine | None,
        *,
        mode: Mode = "hybrid",
        cutoffs: Cutoffs = DEFAULT_CUTOFFS,
    ) -> None:
        if mode != "fast" and engine is None:
            raise ValueError(f"mode {mode!r} needs a tool-call engine")
        self.engine = engine
        self.mode = mode
        self.cutoffs = cutoffs

    def decide(self, index: OperationIndex, text: str, *, today: date | None = None) -> Decision:
        match = index.match(text, today=today)
        if self.mode == "fast" or self.engine is None:
            return Decision(match.command, "fast", match, reason=match.reason)
        if self.mode == "hybrid" and fast_is_sure(match, self.cutoffs):
            return Decision(match.command, "fast", match, reason=f"fast path sure: {match.reason}")
        ops = llm_candidates(index, match, self.engine.max_candidates, self.mode)
        began = time.perf_counter()
        # the model reads numbers and years as digits, as the fast path does ("two thousand
        # five" is 2005; small models read the words as 2025)
        reply = self.engine.choose(digits(text), ops)
        took = (time.perf_counter() - began) * 1000
        if reply.problem and not reply.missing:
            # unusable reply: the fast path's answer in hybrid mode; in llm mode, no call
            fallback = match.command if self.mode == "hybrid" else None
            why = f"the LLM's reply was not used ({reply.problem})"
            return Decision(fallback, "llm-fallback", match, reply, why, took)
        command = _from_reply(reply, text)
        chosen = reply.op.key if reply.op else "no operation"
        return Decision(command, "llm", match, reply, f"the LLM chose {chosen}", took)


ENGINE_ENV = "CAIRN_TOOL_ENGINE"
TOOL_LLM_ENV = "CAIRN_TOOL_LLM"
TOOL_CONTEXT = 4096  # tokens: a few signatures and a request fit


def load_tool_llm(spec: str, *, threads: int | None = None) -> Any:
    """The LLM for tool calls: a model name from :mod:`cairn.models.gguf_files` (``qwen0.5b``,
    ``qwen1.5b``, ``smollm2``), ``local`` (the packaged SmolLM2), a .gguf path or an
    OpenAI-compatible base URL. Loaded now, so a missing ``llm`` extra or model file is an
    error here, with its install hint."""
    from cairn.models.gguf_files import resolve
    from cairn.models.llm import LlamaCppLLM, load_llm

    resolved = resolve(spec)
    if resolved == "local" or resolved.endswith(".gguf"):
        path = None if resolved == "local" else resolved
        llm: Any = LlamaCppLLM(path, n_ctx=TOOL_CONTEXT, threads=threads)
    else:
        llm = load_llm(resolved)
    llm.warm_up()
    return llm


def matcher_for(engine: str, llm: Any | None, *, max_candidates: int = 4) -> HybridMatcher:
    """The matcher for ``--engine``; ``hybrid`` and ``llm`` need a loaded ``llm``."""
    from cairn.command.tool_llm import ToolLLMError

    if engine not in MODES:
        raise ToolLLMError("bad-engine", f"unknown engine {engine!r}: use {', '.join(MODES)}")
    mode: Mode = "hybrid" if engine == "hybrid" else "llm" if engine == "llm" else "fast"
    if mode == "fast":
        return HybridMatcher(None, mode="fast")
    if llm is None:
        raise ToolLLMError(
            "missing-llm",
            f"the {mode} engine needs --llm: a model name (qwen0.5b, qwen1.5b, smollm2), "
            "a .gguf path, 'local' or an OpenAI-compatible URL",
        )
    return HybridMatcher(ToolCallEngine(llm, max_candidates=max_candidates), mode=mode)


def matcher_from_env() -> HybridMatcher | None:
    """For voice and chat: ``$CAIRN_TOOL_ENGINE`` (fast|hybrid|llm, default fast) with the
    model in ``$CAIRN_TOOL_LLM``. ``None`` when the fast path alone is asked for."""
    import os

    from cairn.command.tool_llm import ToolLLMError

    engine = os.environ.get(ENGINE_ENV, "").strip() or "fast"
    if engine == "fast":
        return None
    if engine not in MODES:
        raise ToolLLMError(
            "bad-engine", f"{ENGINE_ENV}={engine!r} is not an engine: use {', '.join(MODES)}"
        )
    spec = os.environ.get(TOOL_LLM_ENV, "").strip()
    if not spec:
        raise ToolLLMError(
            "missing-llm",
            f"{ENGINE_ENV}={engine} needs {TOOL_LLM_ENV}: a model name (qwen0.5b, qwen1.5b, "
            "smollm2), a .gguf path, 'local' or an OpenAI-compatible URL",
        )
    return matcher_for(engine, load_tool_llm(spec))
