"""Unanswerable look-alikes of an answerable question, by the edits SQuAD 2.0's writers used.

Each edit changes the question so the sentence no longer answers it, while it still reads
like the sentence (Rajpurkar et al. 2018, table 3):

* ``entity-swap``: a name in the question swapped for another of the same type from the
  collection ("Who founded Normandy?" -> "Who founded Sicily?");
* ``number-change``: a number or year changed;
* ``negation``: "not" inserted ("Who did not found Normandy?");
* ``antonym``: an adjective swapped for its WordNet antonym ("new" -> "old");
* ``role-swap``: subject and object exchanged ("Who founded Normandy?" -> "Who did Normandy
  found?");
* ``condition``: a condition the sentence does not state ("... in 1750?");
* ``neighbour``: the question paired with a neighbouring sentence that lacks the answer.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from cairn.synthetic.wordnet import antonyms

_NUMBER = re.compile(r"\b\d[\d,]*(?:\.\d+)?\b")


def _swap_word(question: str, old: str, new: str) -> str | None:
    pattern = re.compile(rf"(?<!\w){re.escape(old)}(?!\w)")
    if not pattern.search(question):
        return None
    return pattern.sub(new, question, count=1)


def _changed_number(text: str, rng: random.Random) -> str:
    digits = text.replace(",", "")
    try:
        value = float(digits)
    except ValueError:
        return text
    if digits.isdigit() and len(digits) == 4 and 1000 <= value <= 2100:
        return str(int(value) + rng.choice([-11, -7, -3, 4, 9, 13]))  # another year
    new = value * rng.choice([2, 3, 0.5]) + (1 if value < 10 else 0)
    out = f"{int(new):,}" if new == int(new) else f"{new:g}"
    return out if "," in text else out.replace(",", "")


def lookalikes(
    sent: Any,
    kind: str,
    question: str,
    answer: Any,
    pool: Mapping[str, Sequence[str]],
    rng: random.Random,
    neighbour: str | None = None,
) -> Iterator[tuple[str, str, str]]:
    """(edit, question, context sentence) for each edit that applies to ``question``."""
    text = str(sent.text)
    verb = sent.root
    lemma = verb.lemma_.lower() or verb.text.lower()
    # entity-swap: a name of the question (not the answer) for another of its type
    for ent in sent.ents:
        if ent.start >= answer.start and ent.end <= answer.end:
            continue
        others = [e for e in pool.get(ent.label_, ()) if e not in text and e != ent.text]
        if ent.text in question and others:
            q = _swap_word(question, ent.text, rng.choice(others))
            if q:
                yield "entity-swap", q, text
                break
    # number-change
    m = _NUMBER.search(question)
    if m:
        new = _changed_number(m.group(0), rng)
        if new != m.group(0) and new not in text:
            yield "number-change", question[: m.start()] + new + question[m.end() :], text
    # negation
    if question.startswith(f"Who {verb.text} ") and verb.tag_ == "VBD":
        yield "negation", question.replace(f"Who {verb.text} ", f"Who did not {lemma} ", 1), text
    else:
        target = f" {lemma}" if f" {lemma}" in question[3:] else f" {verb.text}"
        at = question.find(target, 3)
        if at > 0 and not question.startswith(f"Who {verb.text} "):
            yield "negation", question[:at] + " not" + question[at:], text
    # antonym: an adjective of the question (verb senses are too ambiguous: found -> lose)
    for tok in sent:
        if tok.pos_ == "ADJ" and tok.text in question and not tok.ent_type_:
            ants = antonyms(tok.lemma_ or tok.text)
            if ants:
                q = _swap_word(question, tok.text, ants[0])
                if q and q != question:
                    yield "antonym", q, text
                    break
    # role-swap: "Who founded X?" -> "Who did X found?"
    prefix = f"Who {verb.text} "
    if kind == "who" and question.startswith(prefix) and verb.tag_ == "VBD":
        obj = question[len(prefix) : -1]
        yield "role-swap", f"Who did {obj} {lemma}?", text
    # condition: a date the sentence never states
    if kind != "when" and not any(e.label_ == "DATE" for e in sent.ents):
        years = [y for y in pool.get("DATE", ()) if _NUMBER.fullmatch(y) and y not in text]
        if years:
            yield "condition", f"{question[:-1]} in {rng.choice(years)}?", text
    # neighbour: the same question against the sentence next to this one
    if neighbour and answer.text not in neighbour:
        yield "neighbour", question, neighbour
