"""Synthetic contradictions of a declarative sentence, by the edits fact-checkers meet.

Each edit keeps almost every word of the sentence, so only reading it (not word overlap) tells
that the result contradicts the original:

* ``negation``: "not" after the auxiliary, or "did not" + lemma ("The Tran defeated the
  Mongols" -> "The Tran did not defeat the Mongols");
* ``antonym``: an adjective swapped for its WordNet antonym ("more efficient" -> "less ..."
  is not in WordNet; "efficient" -> "inefficient" is);
* ``number-change``: a number or year changed (as ``lookalikes`` changes them);
* ``role-swap``: subject and object exchanged ("The Mongols defeated the Tran");
* ``entity-swap``: a name swapped for another of the same type from the collection.

Used by ``cairn_eval.nli_train`` to make contradicting (and, with the unedited sentence,
supporting) training pairs from corpus sentences. Needs a spaCy pipeline with a parser
(``load_nlp`` from ``cairn.synthetic.dataset``).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from cairn.synthetic.lookalikes import _NUMBER, _changed_number, _swap_word
from cairn.synthetic.wordnet import antonyms

EDITS = ("negation", "antonym", "number-change", "role-swap", "entity-swap")
_AUX_NEG = {"is", "are", "was", "were", "can", "could", "will", "would", "may", "might", "has"}
_AUX_NEG |= {"have", "had", "should", "must", "does", "do", "did"}
_DO = {"VBD": "did", "VBZ": "does", "VBP": "do"}
# Direction words WordNet has no antonym pointer for (comparatives, change verbs).
_DIRECTION = {
    "more": "less", "less": "more", "higher": "lower", "lower": "higher",
    "increase": "decrease", "decrease": "increase", "increases": "decreases",
    "decreases": "increases", "increased": "decreased", "decreased": "increased",
    "reduces": "increases", "reduced": "increased", "reduce": "increase",
    "better": "worse", "worse": "better", "greater": "smaller", "smaller": "greater",
    "positively": "negatively", "negatively": "positively", "before": "after", "after": "before",
}  # fmt: skip


def _capitalised(text: str, like: str) -> str:
    if like[:1].isupper() and text[:1].islower():
        return text[:1].upper() + text[1:]
    if like[:1].islower() and text[:1].isupper() and not text.split()[0].isupper():
        return text[:1].lower() + text[1:]
    return text


def negate(sent: Any) -> str | None:
    """The sentence with its main verb negated, or None when it already is or has no verb."""
    text = str(sent.text)
    root = sent.root
    if root.pos_ not in {"VERB", "AUX"} or any(t.dep_ == "neg" for t in root.children):
        return None
    offset = sent.start_char
    aux = [t for t in root.children if t.dep_ in {"aux", "auxpass"} and t.i < root.i]
    if aux and aux[0].lower_ in _AUX_NEG:
        at = aux[0].idx + len(aux[0].text) - offset
        return text[:at] + " not" + text[at:]
    if root.lower_ in _AUX_NEG and root.lemma_ == "be":
        at = root.idx + len(root.text) - offset
        return text[:at] + " not" + text[at:]
    if root.tag_ in _DO and root.lemma_:
        at = root.idx - offset
        return f"{text[:at]}{_DO[root.tag_]} not {root.lemma_}{text[at + len(root.text) :]}"
    return None


def role_swap(sent: Any) -> str | None:
    """Subject and direct object exchanged, when both are noun phrases (not pronouns)."""
    root = sent.root
    subj = [t for t in root.children if t.dep_ == "nsubj"]
    obj = [t for t in root.children if t.dep_ == "dobj"]
    if not subj or not obj or subj[0].pos_ == "PRON" or obj[0].pos_ == "PRON":
        return None
    s_tokens, o_tokens = list(subj[0].subtree), list(obj[0].subtree)
    s = sent.doc[s_tokens[0].i : s_tokens[-1].i + 1]
    o = sent.doc[o_tokens[0].i : o_tokens[-1].i + 1]
    if s.end > o.start or s.text.lower() == o.text.lower():
        return None
    text, base = str(sent.text), sent.start_char
    a0, a1 = s.start_char - base, s.end_char - base
    b0, b1 = o.start_char - base, o.end_char - base
    new_s = _capitalised(o.text, s.text)
    new_o = _capitalised(s.text, "x") if not s[0].ent_type_ else s.text
    return text[:a0] + new_s + text[a1:b0] + new_o + text[b1:]


def contradictions(
    sent: Any, pool: Mapping[str, Sequence[str]], rng: random.Random
) -> Iterator[tuple[str, str]]:
    """(edit, edited sentence) for each edit of ``EDITS`` that applies to ``sent``."""
    text = str(sent.text)
    neg = negate(sent)
    if neg and neg != text:
        yield "negation", neg
    # direction words first ("more efficient" -> "less efficient"), then WordNet adjectives
    for tok in sorted(sent, key=lambda t: t.lower_ not in _DIRECTION):
        if tok.lower_ in _DIRECTION:
            new = _swap_word(text, tok.text, _capitalised(_DIRECTION[tok.lower_], tok.text))
        elif tok.pos_ == "ADJ" and not tok.ent_type_:
            ants = antonyms(tok.lemma_ or tok.text)
            new = _swap_word(text, tok.text, ants[0]) if ants else None
        else:
            continue
        if new and new != text:
            yield "antonym", new
            break
    m = _NUMBER.search(text)
    if m:
        changed = _changed_number(m.group(0), rng)
        if changed != m.group(0):
            yield "number-change", text[: m.start()] + changed + text[m.end() :]
    swapped = role_swap(sent)
    if swapped and swapped != text:
        yield "role-swap", swapped
    for ent in sent.ents:
        others = [e for e in pool.get(ent.label_, ()) if e != ent.text and e not in text]
        if others and ent.label_ not in {"CARDINAL", "DATE", "PERCENT", "QUANTITY"}:
            new = _swap_word(text, ent.text, rng.choice(others))
            if new:
                yield "entity-swap", new
                break


def entity_pool(docs: Sequence[Any], per_label: int = 200) -> dict[str, list[str]]:
    """Names by spaCy entity label, from parsed documents (the swap candidates)."""
    pool: dict[str, list[str]] = {}
    for doc in docs:
        for ent in doc.ents:
            names = pool.setdefault(ent.label_, [])
            if len(names) < per_label and ent.text not in names and re.search(r"\w", ent.text):
                names.append(ent.text)
    return pool
