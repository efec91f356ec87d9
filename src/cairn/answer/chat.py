"""``chat``: a conversation over the knowledge base, every turn grounded and cited.

A follow-up question is rewritten into a self-contained query, against the previous turn,
before retrieval, by symbolic rules (no model):

* pronouns (it, its, they, them, their, this, he, him, his, she, her) become the main entity
  of the previous query (a capitalised name, else its first "the ..." noun phrase); he/she
  prefer the previous answer when it was a name ("Who built it?" -> "Margaret Hale");
* elliptical follow-ups take the previous query and swap in the new slot: "and in 2019?"
  replaces the year (or the "in ..." phrase) of the previous query, or is appended to it;
  "what about the bakery?" replaces its main entity.

Each turn keeps the question, the rewritten query and the answer with its citations;
:meth:`ChatSession.save` writes that transcript as JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spacy.lang.en.stop_words import STOP_WORDS

from cairn.answer.ask import ask
from cairn.answer.span import SpanSource
from cairn.answer.types import Answer
from cairn.answer.verify import SupportModel
from cairn.knowledge import KnowledgeBase
from cairn.models.llm import LLM

_TOKEN = re.compile(r"[A-Za-z][\w'\u2019-]*|\d[\d,.]*\d|\d|[^\w\s]")
_WH = frozenset({"who", "whom", "whose", "what", "which", "when", "where", "why", "how"})
_AUX = frozenset(
    [
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "do",
        "does",
        "did",
        "has",
        "have",
        "had",
        "can",
        "could",
        "will",
        "would",
        "should",
        "may",
        "might",
        "must",
        "shall",
    ]
)
_PREPS = frozenset(
    [
        "in",
        "on",
        "at",
        "for",
        "during",
        "by",
        "from",
        "since",
        "before",
        "after",
        "under",
        "over",
        "near",
        "within",
        "into",
        "to",
        "of",
    ]
)
_PERSONAL = {"he": "", "him": "", "his": "'s", "she": "", "her": "'s"}
_THING = {"it": "", "its": "'s", "they": "", "them": "", "their": "'s", "this": ""}
_PARTICIPLES = frozenset(
    [
        "built",
        "made",
        "written",
        "born",
        "known",
        "given",
        "taken",
        "seen",
        "done",
        "held",
        "won",
        "sold",
        "told",
        "found",
        "led",
        "begun",
        "become",
        "grown",
        "drawn",
        "thrown",
        "chosen",
        "spoken",
        "kept",
        "left",
        "lost",
        "paid",
        "run",
        "shown",
        "sung",
        "brought",
        "bought",
        "caught",
        "taught",
        "thought",
        "sent",
        "spent",
        "set",
        "put",
        "read",
        "said",
        "called",
        "named",
        "located",
        "based",
        "used",
    ]
)
_YEAR = re.compile(r"^(1[0-9]|20)\d\d$")
_ELLIPSIS = re.compile(
    r"^\s*(?:(?:and|but|so)\s+)?(?:what|how)\s+about\s+(?P<a>.+?)[\s?.!]*$"
    r"|^\s*(?:and|but)\s+(?P<b>.+?)[\s?.!]*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Turn:
    question: str  # as the user typed it
    query: str  # the self-contained query that was asked
    answer: Answer

    @property
    def rewritten(self) -> bool:
        return self.query != self.question

    def to_dict(self) -> dict[str, Any]:
        a = self.answer
        return {
            "question": self.question,
            "query": self.query,
            "rewritten": self.rewritten,
            "answer": a.text,
            "short_answer": a.short_answer,
            "abstained": a.abstained,
            "reason": a.reason,
            "mode": a.mode,
            "support": round(a.support, 4),
            "citations": [c.to_dict() for c in a.citations],
            "dropped": list(a.dropped),
        }


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _join(tokens: Sequence[str]) -> str:
    out = ""
    for t in tokens:
        if out and not (t in {"?", ".", "!", ",", ";", ":"} or t.startswith("'")):
            out += " "
        out += t
    return out


def _verb_like(tok: str) -> bool:
    return tok in _AUX or tok in _PARTICIPLES or (len(tok) > 4 and tok.endswith("ed"))


def _is_name(tok: str) -> bool:
    return tok[:1].isupper() and tok.lower() not in STOP_WORDS and tok.lower() not in _WH


def main_entity(text: str) -> str | None:
    """The longest capitalised name in ``text`` (with a leading "the"), else its first
    "the/a ..." noun phrase; None when there is neither."""
    toks = _tokens(text)
    best: tuple[int, int] | None = None
    i = 0
    while i < len(toks):
        # A capital opening the text is usually a verb ("Tell me..."), unless a name follows.
        opening = i == 0 and not (len(toks) > 1 and _is_name(toks[1]))
        if _is_name(toks[i]) and not opening:
            j = i
            while j + 1 < len(toks) and (
                _is_name(toks[j + 1])
                or (toks[j + 1] in {"of", "de"} and j + 2 < len(toks) and _is_name(toks[j + 2]))
            ):
                j += 1
            if best is None or j - i > best[1] - best[0]:
                best = (i, j)
            i = j + 1
        else:
            i += 1
    if best is not None:
        i, j = best
        start = i - 1 if i > 0 and toks[i - 1].lower() == "the" else i
        return _join(toks[start : j + 1])
    for i, tok in enumerate(toks):
        if tok.lower() in {"the", "a", "an"}:
            j = i + 1
            while (
                j < len(toks)
                and j - i <= 3
                and toks[j][:1].isalpha()
                and toks[j].lower() not in STOP_WORDS
                and not _verb_like(toks[j].lower())
            ):
                j += 1
            if j > i + 1:
                return _join(["the", *toks[i + 1 : j]])
    return None


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _ensure_question_mark(text: str) -> str:
    text = text.rstrip(" .!")
    return text if text.endswith("?") else text + "?"


def rewrite(
    question: str, previous_query: str | None, previous_answer: Answer | None = None
) -> str:
    """``question`` made self-contained against the previous turn (unchanged when it is)."""
    q = " ".join(question.split())
    if not previous_query:
        return q
    m = _ELLIPSIS.match(q)
    if m:
        slot = (m.group("a") or m.group("b") or "").strip()
        first = slot.split()[0].lower() if slot else ""
        if first in _WH and len(_tokens(slot)) == 1:
            return _ask_again(previous_query, first)  # "and when?": same subject, new slot
        if first in _WH or first in _AUX:
            q = _capitalise(_ensure_question_mark(slot))  # "and when did it close?"
        elif slot:
            return _substitute(previous_query, slot)
    return _resolve_pronouns(q, previous_query, previous_answer)


def _resolve_pronouns(q: str, previous_query: str, previous_answer: Answer | None) -> str:
    toks = _tokens(q)
    thing = main_entity(previous_query)
    person = None
    if previous_answer is not None and not previous_answer.abstained:
        short = previous_answer.short_answer
        if short and _is_name(short.split()[0]):
            person = short
    person = person or thing
    thing = thing or person
    out: list[str] = []
    changed = False
    for i, tok in enumerate(toks):
        low = tok.lower()
        nxt = toks[i + 1].lower() if i + 1 < len(toks) else "?"
        target = None
        suffix = ""
        if low in _PERSONAL and person:
            if low == "her" and nxt[:1].isalpha() and nxt not in _AUX and nxt not in _PREPS:
                suffix = "'s"  # "her husband" -> possessive
            else:
                suffix = _PERSONAL[low] if low != "her" else ""
            target = person
        elif low in _THING and thing:
            if low == "this" and nxt[:1].isalpha() and not _verb_like(nxt):
                target = None  # "this tower": a determiner, not a pronoun
            else:
                target, suffix = thing, _THING[low]
        if target is None:
            out.append(tok)
            continue
        changed = True
        out.append(_capitalise(target) if i == 0 else target)
        if suffix:
            out[-1] += "'" if out[-1].endswith("s") else suffix
    if not changed:
        return q
    return _capitalise(_join(out))


def _ask_again(previous: str, wh: str) -> str:
    """The previous query asked with another question word: "Who founded Normandy?" +
    "when" -> "When was Normandy founded?"; "Where did Rollo die?" + "when" -> "When did
    Rollo die?"."""
    toks = _tokens(previous.rstrip(" ?.!"))
    if toks and toks[0].lower() in _WH:
        rest = toks[1:]
        if rest and rest[0].lower() in {"many", "much"}:
            rest = rest[1:]  # "how many ships did they build" -> "... did they build"
            while rest and rest[0].lower() not in _AUX:
                rest = rest[1:]
        if rest and rest[0].lower() in _AUX:
            return _capitalise(_join([wh, *rest]) + "?")
        if len(rest) > 1 and _verb_like(rest[0].lower()):
            # a subject question "who founded X": ask about X in the passive
            return _capitalise(_join([wh, "was", *rest[1:], rest[0]]) + "?")
        return _capitalise(_join([wh, *rest]) + "?")
    entity = main_entity(previous)
    return _capitalise(f"{wh} {entity}?" if entity else f"{previous.rstrip(' ?.!')}: {wh}?")


def _substitute(previous: str, slot: str) -> str:
    """The previous query with ``slot`` swapped in for its matching part, or appended."""
    prev_toks = _tokens(previous.rstrip(" ?.!"))
    slot_toks = _tokens(slot)
    first = slot_toks[0].lower()
    if first in _PREPS and len(slot_toks) > 1:
        obj = slot_toks[1:]
        numeric = obj[-1][:1].isdigit()
        # "in Paris" -> "in France"; "in 2010" -> "in 2019" (same kind of phrase only)
        for i, tok in enumerate(prev_toks[:-1]):
            if tok.lower() == first:
                j = i + 1
                if prev_toks[j].lower() == "the" and j + 1 < len(prev_toks):
                    j += 1
                end = j
                if prev_toks[j][:1].isdigit():
                    end = j + 1 if numeric else j
                elif not numeric:
                    while end < len(prev_toks) and _is_name(prev_toks[end]):
                        end += 1
                if end > j:
                    return _capitalise(_join([*prev_toks[: i + 1], *obj, *prev_toks[end:]]) + "?")
        if _YEAR.match(obj[-1]):
            years = [i for i, t in enumerate(prev_toks) if _YEAR.match(t)]
            if years:
                i = years[-1]
                return _capitalise(_join([*prev_toks[:i], obj[-1], *prev_toks[i + 1 :]]) + "?")
        return _capitalise(_join([*prev_toks, *slot_toks]) + "?")
    if len(slot_toks) == 1 and _YEAR.match(slot_toks[0]):
        years = [i for i, t in enumerate(prev_toks) if _YEAR.match(t)]
        if years:
            i = years[-1]
            return _capitalise(_join([*prev_toks[:i], slot_toks[0], *prev_toks[i + 1 :]]) + "?")
        return _capitalise(_join([*prev_toks, "in", slot_toks[0]]) + "?")
    entity = main_entity(previous)
    base = previous.rstrip(" ?.!")
    if entity and entity in base:
        return _capitalise(base.replace(entity, slot, 1) + "?")
    return _capitalise(f"{base} {slot}?")


class ChatSession:
    """A conversation: each question is rewritten against the last turn, then asked."""

    def __init__(
        self,
        kb: KnowledgeBase,
        llm: LLM | None = None,
        *,
        collections: Sequence[str] = (),
        k: int = 5,
        spans: SpanSource | None = None,
        model: SupportModel | None = None,
        threshold: float | None = None,
    ) -> None:
        self.kb = kb
        self.llm = llm
        self.collections = tuple(collections)
        self.k = k
        self.spans = spans
        self.model = model
        self.threshold = threshold
        self.turns: list[Turn] = []

    def rewrite(self, question: str) -> str:
        last = self.turns[-1] if self.turns else None
        return rewrite(question, last.query if last else None, last.answer if last else None)

    def ask(self, question: str) -> Turn:
        query = self.rewrite(question)
        answer = ask(
            self.kb,
            query,
            collections=self.collections,
            k=self.k,
            spans=self.spans,
            model=self.model,
            threshold=self.threshold,
            llm=self.llm,
        )
        turn = Turn(" ".join(question.split()), answer.question, answer)
        self.turns.append(turn)
        return turn

    def transcript(self) -> dict[str, Any]:
        return {
            "collections": list(self.collections),
            "llm": self.llm.name if self.llm else None,
            "turns": [t.to_dict() for t in self.turns],
        }

    def save(self, path: str | Path) -> Path:
        p = Path(path).expanduser()
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(
            json.dumps(self.transcript(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        return p
