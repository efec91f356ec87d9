"""Answerable questions made from declarative sentences, the answer span known by construction.

A sentence is parsed (spaCy ``en_core_web_sm``, the packaged model); its main verb, subject,
object, "by" agent and the entities attached to the verb give questions whose answer is a span
of the sentence:

* "Rollo founded the Duchy in 911."  -> "Who founded the Duchy?" (Rollo), "What did Rollo
  found?" (the Duchy), "When did Rollo found the Duchy?" (911)
* "The Duchy was founded in 911 by Rollo." -> "Who was the Duchy founded by?" (Rollo),
  "When was the Duchy founded?" (911)
* "Sedio acquired 200,000 shares for 50,000 dlrs." -> "How many shares did Sedio acquire?"
  (200,000), "How much did Sedio acquire 200,000 shares for?" (50,000 dlrs)
* places (GPE/LOC/FAC after in/at/near) -> "Where ...?"

Each :class:`QAPair` keeps the sentence, its source and the answer's character offsets in the
sentence, so ``sentence[answer_start:answer_end] == answer`` always.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from cairn.answer.span_check import CURRENCY

_PERSONS = frozenset({"PERSON", "ORG", "NORP"})
_PLACES = frozenset({"GPE", "LOC", "FAC"})
_PLACE_PREPS = frozenset({"in", "at", "near"})
_DATE_PREPS = frozenset({"in", "on", "during", "since", "by"})
_YEAR = re.compile(r"^(?:1\d{3}|20\d{2}|[1-9]\d{2})$")


def _is_date(tok: Any) -> bool:
    return tok.ent_type_ in ("DATE", "TIME") or bool(
        tok.ent_type_ == "CARDINAL" and _YEAR.match(tok.text)
    )


def _is_agent(tok: Any) -> bool:
    return tok.ent_type_ in _PERSONS or (tok.pos_ == "PROPN" and not tok.ent_type_)


@dataclass(frozen=True)
class QAPair:
    """One synthetic question, its answer span (None when unanswerable) and where it came from."""

    question: str
    answer: str | None
    answerable: bool
    kind: str  # who, what, when, where, how many, how much
    sentence: str  # the sentence the question is asked against (its context)
    answer_start: int | None = None  # offsets into ``sentence``
    answer_end: int | None = None
    edit: str | None = None  # for look-alikes: the edit that made it unanswerable
    origin: str | None = None  # for look-alikes: the answerable question it was made from
    source: str = ""  # the document's source (path or URL)
    doc_key: str = ""
    start: int = 0  # the sentence's offsets into the document text
    end: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _phrase(tok: Any) -> Any:
    """The whole subtree of ``tok`` as a spaCy span."""
    return tok.doc[tok.left_edge.i : tok.right_edge.i + 1]


def _entity(tok: Any) -> Any:
    """The entity ``tok`` belongs to, else its subtree."""
    for ent in tok.doc.ents:
        if ent.start <= tok.i < ent.end:
            return ent
    return _phrase(tok)


def _do(verb: Any) -> str | None:
    return {"VBD": "did", "VBZ": "does", "VBP": "do"}.get(verb.tag_)


def _text(span: Any) -> str:
    """A phrase as it reads inside a question: a sentence-initial capital lowered."""
    t = str(span.text)
    if span.start == span.sent.start and span[0].pos_ in ("DET", "PRON") and t[:1].isupper():
        t = t[0].lower() + t[1:]
    return t


def _q(text: str) -> str:
    text = " ".join(text.split())
    return text[0].upper() + text[1:] + "?"


def questions_from_sentence(sent: Any) -> Iterator[tuple[str, str, Any]]:
    """(kind, question, answer span) for one parsed sentence (a spaCy ``Span``)."""
    verb = sent.root
    if verb.pos_ != "VERB":
        return
    kids = {c.dep_: c for c in verb.children}
    if "neg" in kids or "aux" in kids or "mark" in kids:
        return  # negated, modal or subordinate: not a plain statement
    subj, dobj, subjpass = kids.get("nsubj"), kids.get("dobj"), kids.get("nsubjpass")
    passive = subjpass is not None and "auxpass" in kids
    agent = None
    if "agent" in kids:
        agent = next((c for c in kids["agent"].children if c.dep_ == "pobj"), None)
    do = _do(verb)
    lemma = verb.lemma_.lower() or verb.text.lower()
    if any(t is not None and t.pos_ == "PRON" for t in (subj, subjpass, dobj)):
        return  # "it", "they": the question would not say who or what
    if passive and subjpass is not None:
        patient = _text(_phrase(subjpass))
        be = kids["auxpass"].text.lower()
        if agent is not None and _is_agent(agent):
            yield "who", _q(f"Who {be} {patient} {verb.text} by"), _entity(agent)
        yield from _attached(verb, f"{be} {patient} {verb.text}", skip=agent)
        for tok in subjpass.subtree:
            if tok.dep_ == "nummod" and tok.ent_type_ == "CARDINAL" and tok.head == subjpass:
                nouns = subjpass.text
                yield "how many", _q(f"How many {nouns} {be} {verb.text}"), _entity(tok)
        return
    if subj is None or do is None:
        return
    s_text = _text(_phrase(subj))
    obj_text = _text(_phrase(dobj)) if dobj is not None else ""
    if _is_agent(subj) and dobj is not None:
        yield "who", _q(f"Who {verb.text} {obj_text}"), _entity(subj)
    if dobj is not None and dobj.pos_ in ("NOUN", "PROPN"):
        yield "what", _q(f"What {do} {s_text} {lemma}"), _phrase(dobj)
        for tok in dobj.children:
            if tok.dep_ == "nummod" and tok.ent_type_ in ("CARDINAL", "QUANTITY"):
                yield "how many", _q(f"How many {dobj.text} {do} {s_text} {lemma}"), _entity(tok)
    yield from _attached(verb, f"{do} {s_text} {lemma} {obj_text}")


def _attached(verb: Any, rest: str, skip: Any = None) -> Iterator[tuple[str, str, Any]]:
    """When/where/how much questions about the prepositional phrases of ``verb``."""
    for prep in verb.children:
        if prep.dep_ != "prep":
            continue
        pobj = next((c for c in prep.children if c.dep_ == "pobj"), None)
        if pobj is None or pobj is skip:
            continue
        p = prep.text.lower()
        if _is_date(pobj) and p in _DATE_PREPS:
            yield "when", _q(f"When {rest}"), _entity(pobj)
        elif pobj.ent_type_ in _PLACES and p in _PLACE_PREPS:
            yield "where", _q(f"Where {rest}"), _entity(pobj)
        elif p == "for" and (
            pobj.ent_type_ == "MONEY" or (pobj.text.lower() in CURRENCY and pobj.n_lefts)
        ):
            yield "how much", _q(f"How much {rest} for"), _phrase(pobj)
