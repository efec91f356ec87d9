"""The short answer is the answer: a span is shown only when it fills what the question asks.

:func:`choose_span` ranks spans by answer type and nearness to the question's words; that is
enough to feed the support model, but not to *show* a span next to a quote: "How much did
Sedio pay?" must not answer with a share count, and "Who founded Normandy?" must not answer
with the name of a treaty partner. :func:`checked_span` keeps only the spans that pass

* **type**: the expected type (a year written as a bare number counts as a date);
* **unit**: "how many shares" wants a number of shares; "how much ... pay/cost" wants an
  amount of money (a ``MONEY`` entity, or a number of "dlrs", "euros", ...; the currency word
  is then part of the span);
* **role**: when the question's verb is in the sentence, a "who/what VERB ...?" question wants
  that verb's subject (or its "by" agent in the passive), and "who/what did X VERB?" wants its
  object;

and returns the best of them by :func:`choose_span`'s order, or None: the answer then shows
the quote alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from cairn.answer.question import AnswerType, QuestionInfo, stem
from cairn.answer.span import SpanCandidate, choose_span


def _set(text: str) -> frozenset[str]:
    return frozenset(text.split())


_WORD = re.compile(r"[a-z0-9$\u00a3\u20ac]+(?:['.,][a-z0-9]+)*")
_AUX = _set(
    "is are was were be been do does did has have had can could will would should may might"
    " must shall"
)
_WH = _set("who whom whose what which when where why how")
_PREPS = _set("to for with in on at by from of about into")
CURRENCY = _set(
    "$ \u00a3 \u20ac dlr dlrs dollar dollars usd us$ cent cents cts pound pounds stg sterling"
    " euro euros eur yen yuan renminbi franc francs mark marks rupee rupees rupiah peso pesos"
    " crown crowns kronor krona won ringgit rand real reais rouble roubles ruble rubles lira"
    " lire"
)
_MONEY_WORDS = _set(
    "pay paid cost costs price priced spend spent sell sold buy bought worth earn earned raise"
    " raised charge charged fund funded invest invested value valued fee fees salary revenue"
    " revenues profit profits loss losses budget fine fined owe owed borrow borrowed lend lent"
    " offer offered bid"
)
# Irregular past forms, so "who wrote X?" meets "X ... written by Y": base:form,form ...
_IRREGULAR = {
    form: base
    for entry in _set(
        "arise:arose,arisen bear:bore,born,borne beat:beaten become:became begin:began,begun"
        " bind:bound break:broke,broken bring:brought build:built buy:bought catch:caught"
        " choose:chose,chosen come:came dig:dug do:did,done draw:drew,drawn drive:drove,driven"
        " eat:ate,eaten fall:fell,fallen feed:fed feel:felt fight:fought find:found flee:fled"
        " fly:flew,flown forbid:forbade,forbidden forget:forgot,forgotten freeze:froze,frozen"
        " get:got,gotten give:gave,given go:went,gone grow:grew,grown hang:hung have:had"
        " hear:heard hide:hid,hidden hold:held keep:kept know:knew,known lay:laid lead:led"
        " leave:left lend:lent lose:lost make:made mean:meant meet:met pay:paid ride:rode,ridden"
        " rise:rose,risen run:ran say:said see:saw,seen seek:sought sell:sold send:sent"
        " shake:shook,shaken shine:shone shoot:shot sing:sang,sung sink:sank,sunk sit:sat"
        " sleep:slept slay:slew,slain speak:spoke,spoken spend:spent stand:stood"
        " steal:stole,stolen strike:struck swear:swore,sworn swim:swam,swum take:took,taken"
        " teach:taught"
        " tear:tore,torn tell:told think:thought throw:threw,thrown understand:understood"
        " wake:woke,woken wear:wore,worn weave:wove,woven win:won withdraw:withdrew,withdrawn"
        " write:wrote,written"
    )
    for base, forms in [entry.split(":")]
    for form in forms.split(",")
}


def verb_stem(word: str) -> str:
    """One stem for every form of a verb: "wrote", "written", "writes" -> "write"."""
    w = word.lower()
    return stem(_IRREGULAR.get(w, w))


_YEAR = re.compile(r"^(?:1\d{3}|20\d{2}|[1-9]\d{2})$")


@dataclass(frozen=True)
class Frame:
    """What the question wants beyond a type: a counted noun, money, a role of a verb."""

    wants_money: bool = False
    unit: str | None = None  # the stem of the counted noun ("how many shares" -> "share")
    verbs: tuple[str, ...] = ()  # stems of the words that may be the question's main verb
    role: str | None = None  # "subject" (who VERBed X?) or "object" (who did X VERB?)


def frame(info: QuestionInfo) -> Frame:
    lower = info.text.lower()
    toks = _WORD.findall(lower)
    wants_money = False
    unit = None
    m = re.search(r"\bhow (many|much)\s+(\w+)", lower)
    if m:
        nxt = m.group(2)
        if m.group(1) == "many" and nxt not in _AUX:
            unit = stem(nxt)
        if m.group(1) == "much" and nxt in {"money", "cash"}:
            wants_money = True
    if re.search(r"\bhow much\b", lower):
        wants_money = wants_money or any(t in _MONEY_WORDS for t in toks)
    verbs, role = _verb_role(toks)
    return Frame(wants_money=wants_money, unit=unit, verbs=verbs, role=role)


def _verb_role(toks: list[str]) -> tuple[tuple[str, ...], str | None]:
    """(("found",), "subject") for "who founded ...?"; "who did X marry?" asks for an object."""
    if len(toks) < 3 or toks[0] not in ("who", "what", "whom"):
        return (), None
    second = toks[1]
    if second not in _AUX and second not in _WH:
        return (verb_stem(second),), "subject"  # who founded X? / what caused X?
    if second in ("did", "does", "do") and toks[-1] not in _PREPS:
        return tuple(verb_stem(t) for t in toks[2:]), "object"  # who did X marry?
    if second in ("was", "were", "is", "are") and toks[-1] == "by" and len(toks) >= 4:
        return (verb_stem(toks[-2]),), "subject"  # who was X founded by? (the agent)
    return (), None


def _fits(info: QuestionInfo, fr: Frame, c: SpanCandidate, verb: str | None) -> bool:
    if info.answer_type in (AnswerType.number, AnswerType.percent):
        currency = c.unit is not None and c.unit in CURRENCY
        if fr.wants_money and c.label != "MONEY" and not currency:
            return False
        if not fr.wants_money and (c.label == "MONEY" or currency) and fr.unit is not None:
            return False
        if fr.unit is not None and c.unit is not None and stem(c.unit) != fr.unit:
            return False
    if verb is not None and fr.role is not None and c.role is not None:
        if c.verb is None or verb_stem(c.verb) != verb:
            return False
        if fr.role == "subject":
            return c.role in ("subj", "agent")
        return c.role in ("obj", "patient")
    return True


def relabelled(
    info: QuestionInfo, sentence: str, candidates: Sequence[SpanCandidate]
) -> list[SpanCandidate]:
    """Candidates with a bare year read as a date (for "when" questions) and a number of
    "dlrs" read as money, its currency word included."""
    return [_relabel(info, sentence, c) for c in candidates]


def _relabel(info: QuestionInfo, sentence: str, c: SpanCandidate) -> SpanCandidate:
    if info.answer_type is AnswerType.date and c.label == "CARDINAL" and _YEAR.match(c.text):
        return replace(c, label="DATE")
    if c.unit and c.unit in CURRENCY and c.unit_end is not None and c.unit_end > c.end:
        return replace(c, text=sentence[c.start : c.unit_end], end=c.unit_end, label="MONEY")
    return c


def checked_span(
    info: QuestionInfo, sentence: str, candidates: Sequence[SpanCandidate]
) -> SpanCandidate | None:
    """The best span that has the type, unit and role the question asks for, or None."""
    fr = frame(info)
    # The role is checked only when the question's verb governs some span of the sentence.
    sentence_verbs = {verb_stem(c.verb) for c in candidates if c.verb}
    verb = next((v for v in fr.verbs if v in sentence_verbs), None)
    kept = relabelled(info, sentence, [c for c in candidates if _fits(info, fr, c, verb)])
    return choose_span(info, sentence, kept)[0] if kept else None
