"""Which operation a request means, read from the operations' own schemas (no LLM).

Every candidate is scored on four signals, all from its schema:

* ``meaning``: cosine between the request and the operation's text (name, summary,
  description, parameter words) under the packaged sentence encoder (any
  :class:`~cairn.models.embed.Embedder`; the vectors of the operations are cached);
* ``name``: the share of the operation name's words the request contains;
* ``words``: the share of the request's content words found in the operation's lexicon
  (name, summary, description, parameter names, enum values and their words);
* ``filled``: the share of its required parameters the request gives a value to.

The candidates are ranked by these weighted signals. Whether the best one fits at all is the
call gate's decision (:mod:`cairn.command.call_gate`, a logistic model over the candidates'
signals); when it does, it is a ``call_api`` command when every required parameter is filled,
or a clarifying question naming the first one missing; when it does not, the request goes to
the other intents. :func:`score_says_fits` is the earlier rule (a score threshold with slack for
a clear lead or typed values), kept as the gate's ablation. Weights, threshold, lead and the
gate were set on the even ids of BFCL's categories (see BENCHMARKS.md); the odd ids are what
is reported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

import numpy as np

from cairn.command.call_gate import CallGate, packaged_gate
from cairn.command.model import Command
from cairn.command.operations import OperationDoc, split_name
from cairn.command.slots import Filled, _stem, _word_set, fill
from cairn.command.spoken import digits

WEIGHTS = {"meaning": 0.55, "name": 0.2, "words": 0.25, "filled": 0.15}
THRESHOLD = 0.5
# Among several operations, one this far ahead of the next, with every required parameter
# filled, is taken at up to LEAD_SLACK below the threshold.
LEAD, LEAD_SLACK = 0.2, 0.1
# Per unit of what the values lose of the request (a year put into one date): an operation
# that takes the range said is the better reading than one that takes a day of it.
LOSS = 0.1
# An operation whose every required value comes from its enum words or from dates is taken at
# up to TYPED_SLACK below the threshold (half that with dates alone) when TYPED_LEAD ahead.
TYPED_SLACK, TYPED_LEAD = 0.2, 0.05
_CHART = re.compile(r"\b(?:chart|plot|graph|draw|visuali[sz]e)\b", re.IGNORECASE)


class Encoder(Protocol):
    """What matching needs of a sentence encoder (``cairn.models.embed.Embedder`` fits)."""

    def embed_batch(self, texts: Sequence[str]) -> Any: ...


@dataclass
class Candidate:
    op: OperationDoc
    meaning: float
    name: float
    words: float
    filled: Filled
    score: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "operation": self.op.key,
            "score": round(self.score, 3),
            "meaning": round(self.meaning, 3),
            "name": round(self.name, 3),
            "words": round(self.words, 3),
            "params": self.filled.values,
            "evidence": self.filled.evidence,
            "missing": self.filled.missing,
            "unusable": self.op.unusable,
        }


@dataclass
class Match:
    """The outcome: the command (or ``None`` when no operation fits) and the candidates."""

    command: Command | None
    candidates: list[Candidate] = field(default_factory=list)
    reason: str = ""
    relevance: float | None = None  # the call gate's p(an operation fits); None: score rule

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


class OperationIndex:
    """Operations with their cached vectors; ``match()`` maps one request onto them."""

    def __init__(
        self,
        ops: Sequence[OperationDoc],
        encoder: Encoder | None = None,
        gate: CallGate | None = None,
    ) -> None:
        """``gate``: whether an operation fits at all (default the packaged one)."""
        self.ops = list(ops)
        self.encoder = encoder
        self.gate = gate if gate is not None else packaged_gate()
        self._vectors: Any = None
        self._lexicon = [self._lexicon_of(op) for op in self.ops]

    @staticmethod
    def _lexicon_of(op: OperationDoc) -> set[str]:
        words = _word_set(op.text())
        for p in op.params:
            words |= _word_set(" ".join(str(v) for v in p.enum[:200]))
            words |= _word_set(" ".join(a for a, _ in p.aliases))
        return words

    def prepare(self) -> None:
        """Compute the operations' vectors now (else on the first request)."""
        self._op_vectors()

    def _op_vectors(self) -> Any:
        if self._vectors is None and self.encoder is not None and self.ops:
            self._vectors = np.asarray(self.encoder.embed_batch([op.text() for op in self.ops]))
        return self._vectors

    def candidates(self, text: str, today: date | None = None) -> list[Candidate]:
        if not self.ops:
            return []
        spoken = text
        text = digits(text)  # "two thousand seven" reads as 2007 to the encoder too
        meaning = np.zeros(len(self.ops))
        vectors = self._op_vectors()
        if vectors is not None:
            q = np.asarray(self.encoder.embed_batch([text]))[0]  # type: ignore[union-attr]
            meaning = vectors @ q
        request_words = _word_set(text) | _word_set(split_name(text))
        low = text.lower()
        out = []
        for i, op in enumerate(self.ops):
            name_words = {_stem(w) for w in split_name(op.name).split()} - {"get"}
            name = len(name_words & request_words) / len(name_words) if name_words else 0.0
            if len(op.name) > 3 and re.search(
                r"(?<![\w.])" + re.escape(op.name.lower()) + r"\b", low
            ):
                name = 1.5  # named outright: "call getStockPrices with ..."
            words = len(request_words & self._lexicon[i]) / max(1, len(request_words))
            out.append(Candidate(op, float(meaning[i]), name, words, Filled()))
        for c in out:
            c.score = (
                WEIGHTS["meaning"] * c.meaning
                + WEIGHTS["name"] * c.name
                + WEIGHTS["words"] * c.words
            )
        out.sort(key=lambda c: -c.score)
        front = out[:3]  # slot filling only for the front runners
        for c in front:
            c.filled = fill(c.op, spoken, today)
        most_dates = max(c.filled.dates_taken for c in front)
        for c in front:
            n_req = len(c.op.required)
            share = 1.0 if n_req == 0 else 1 - len(c.filled.missing) / n_req
            # a date another front runner takes and this one drops is lost too
            loss = c.filled.loss + most_dates - c.filled.dates_taken
            c.score += WEIGHTS["filled"] * share - LOSS * loss
        out.sort(key=lambda c: -c.score)
        return out

    def match(
        self, text: str, *, today: date | None = None, threshold: float | None = None
    ) -> Match:
        """The command for ``text``. Whether an operation fits at all is the call gate's
        decision (:mod:`cairn.command.call_gate`); with ``threshold`` given, or before the gate
        is fitted, it is the score rule of :func:`score_says_fits` at that threshold."""
        cands = self.candidates(text, today)
        if not cands:
            return Match(None, cands, "no operations are registered")
        best = cands[0]
        gate = self.gate if threshold is None else None
        relevance: float | None = None
        if gate is not None:
            relevance = gate.probability(cands, text)
            if relevance < gate.cut:
                return Match(
                    None,
                    cands,
                    f"no operation fits: p={relevance:.2f} < {gate.cut:.2f} (best {best.op.key},"
                    f" score {best.score:.2f})",
                    relevance,
                )
        else:
            threshold = THRESHOLD if threshold is None else threshold
            if not score_says_fits(cands, threshold):
                return Match(
                    None, cands, f"best {best.op.key} scored {best.score:.2f} < {threshold:.2f}"
                )
        found = self._command(cands, text)
        found.relevance = relevance
        if relevance is not None:
            found.reason += f" (p(an operation fits) {relevance:.2f})"
        return found

    @staticmethod
    def _command(cands: list[Candidate], text: str) -> Match:
        """The best operation's call, or a question naming its first missing required value."""
        best = cands[0]
        if best.op.unusable:
            msg = f"{best.op.key} fits, but it cannot be called from a request: {best.op.unusable}"
            return Match(
                Command(
                    intent="out_of_scope",
                    clarification=msg,
                    confidence=max(0.0, min(1.0, best.score)),
                ),
                cands,
                msg,
            )
        if best.filled.missing:
            p = next(x for x in best.op.params if x.name == best.filled.missing[0])
            about = f" ({p.description.split('.')[0]})" if p.description else ""
            question = f"To call {best.op.key} I need the {p.words}{about}. What should it be?"
            return Match(
                Command(
                    intent="clarify",
                    clarification=question,
                    api_operation=best.op.key,
                    confidence=min(1.0, max(0.0, best.score)),
                ),
                cands,
                f"{best.op.key} won; required {p.name} is missing",
            )
        params = {
            k: json.dumps(v) if isinstance(v, list | dict) else v
            for k, v in best.filled.values.items()
        }
        command = Command(
            intent="call_api",
            api_operation=best.op.key,
            api_params=params,
            chart_kind="line" if _CHART.search(text) else None,
            confidence=min(1.0, max(0.0, best.score)),
        )
        runner = f", ahead of {cands[1].op.key} ({cands[1].score:.2f})" if len(cands) > 1 else ""
        return Match(command, cands, f"{best.op.key} scored {best.score:.2f}{runner}")


def score_says_fits(cands: Sequence[Candidate], threshold: float = THRESHOLD) -> bool:
    """The score rule (before the call gate, and its ablation): the best operation fits when it
    scores ``threshold``, or a little less when it leads clearly with every required value, or
    when every required value came from the schema's own words or from dates."""
    best = cands[0]
    margin = best.score - cands[1].score if len(cands) > 1 else 0.0
    clear_winner = (
        len(cands) > 1 and best.score >= threshold - LEAD_SLACK and margin >= LEAD
        and not best.filled.missing
    )  # fmt: skip
    # every required value read from the schema's own words (an enum value or the word
    # its description gives it) or from a date: the request names this operation's data
    typed_winner = (
        bool(best.op.required) and not best.filled.missing
        and all(p.name in best.filled.typed for p in best.op.required)
        # dates alone say less than enum words: half the slack
        and best.score >= threshold - TYPED_SLACK / (
            1 if any(p.enum for p in best.op.required) else 2
        )
        and (len(cands) < 2 or margin >= TYPED_LEAD)
    )  # fmt: skip
    return best.score >= threshold or clear_winner or typed_winner


_CACHE: dict[tuple[Any, ...], OperationIndex] = {}


def tool_index(store: Any, encoder: Encoder | None = None) -> OperationIndex:
    """The operations of every tool registered in ``store`` (a KB's store), vectors cached
    until a tool is added or changed. ``encoder``: default the packaged sentence encoder."""
    from cairn.command.operations import from_api_tool
    from cairn.tools.registry import list_api_tools

    tools = list_api_tools(store)
    key = (id(store), tuple((t.name, t.saved_at) for t in tools))
    if key in _CACHE:
        return _CACHE[key]
    ops = [op for t in tools for op in from_api_tool(t)]
    if encoder is None and ops:
        from cairn.models.embed import packaged_minilm

        encoder = packaged_minilm()
    index = OperationIndex(ops, encoder)
    index.prepare()
    _CACHE.clear()
    _CACHE[key] = index
    return index
