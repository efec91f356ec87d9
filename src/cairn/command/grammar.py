"""A symbolic intent grammar: request text -> :class:`Command`, or ``None`` when nothing matches.

Three steps:

1. :func:`~cairn.command.text_normalise.normalise` makes typed text and transcribed speech
   look alike: lowercase, fillers ("um", "please", "could you", "hey cairn") dropped, spelled
   numbers turned into digits ("twenty nineteen" -> 2019), sentence punctuation removed (file
   names and URLs kept).
2. :func:`~cairn.command.request_filters.extract_filters` takes explicit filters out of the
   text: a collection ("in my research collection"), absolute dates ("between 2010 and 2015",
   "since 2019", "in 2019"; "last year" is relative and stays in the text), licences ("only
   CC-BY sources").
3. :data:`~cairn.command.grammar_rules.RULES`, ordered regex templates with named groups, are
   tried in turn; the first whose builder returns a command wins. Requests that need context
   ("forget it", "chart it", a bare noun) become ``clarify`` commands with a question, never
   a guess.

The rule table is :mod:`cairn.command.grammar_rules`, its builders and word patterns
:mod:`cairn.command.rule_builders`; this module runs them (:func:`parse`).
"""

from __future__ import annotations

from cairn.command.grammar_rules import RULES
from cairn.command.model import Command
from cairn.command.request_filters import Filters, extract_filters
from cairn.command.rule_builders import _clarify
from cairn.command.text_normalise import looks_non_english, normalise

__all__ = ["looks_non_english", "normalise", "parse", "rule_names"]

_VERBLESS_MAX_WORDS = 4


def parse(text: str) -> Command | None:
    """The command the grammar reads in ``text``, or ``None`` when no template matches."""
    norm = normalise(text)
    if not norm:
        return _clarify("I did not catch a request. What would you like me to do?")
    stages: dict[str, tuple[Filters, str]] = {"raw": (Filters(), norm)}
    for rule in RULES:
        if rule.stage not in stages:
            stages[rule.stage] = extract_filters(norm, dates=rule.stage != "question")
        filters, subject = stages[rule.stage]
        m = rule.pattern.fullmatch(subject)
        if m is None:
            continue
        command = rule.build(m, filters)
        if command is None:
            continue
        return command
    if len(norm.split()) <= _VERBLESS_MAX_WORDS:
        return _clarify(
            f"What should I do with '{norm}'? e.g. 'search for {norm}' or 'what is {norm}?'",
            confidence=0.9,
        )
    return None


def rule_names() -> list[str]:
    return [r.name for r in RULES]
