"""Stemmers. Cairn has several and they are *not* interchangeable: each was tuned (and its
figures in BENCHMARKS.md measured) with its own. Unifying them is a measured change left for
later (docs/architecture.md, "One text toolkit").

- :func:`prefix_stem` (here): the first five characters, lower-cased. Used by
  ``search/engine.best_sentence`` to pick the highlighted sentence of a hit.
- ``answer/question.stem``: suffix rules (-ing, -ed, -es, -s, -ly, possessive), six characters.
- ``command/slots._stem``: plural rules (-ies -> -y, -es, -s) for matching API parameter names.
- SQLite's FTS5 ``porter`` tokenizer and PostgreSQL's ``english`` text search config in the
  stores' keyword search.
"""

from __future__ import annotations


def prefix_stem(word: str) -> str:
    """``word`` lower-cased and cut to its first five characters."""
    return word.lower()[:5]
