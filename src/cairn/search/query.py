"""Turn a user's query text into search terms, with clear errors for unusable queries."""

from __future__ import annotations

from spacy.lang.en.stop_words import STOP_WORDS

from cairn.errors import SearchError
from cairn.text.tokens import WORD

MAX_QUERY_CHARS = 2000


def validate_query(query: str) -> str:
    q = (query or "").strip()
    if not q:
        raise SearchError("empty-query", "the query is empty: give some words to search for")
    if len(q) > MAX_QUERY_CHARS:
        raise SearchError(
            "query-too-long",
            f"the query is {len(q):,} characters; the limit is {MAX_QUERY_CHARS:,} "
            "(search for the key phrases instead)",
        )
    if not WORD.search(q):
        raise SearchError("no-terms", f"the query {q[:40]!r} has no words or numbers to search for")
    return q


def query_terms(query: str) -> list[str]:
    """Lower-cased words without stop words (all words when the query is only stop words)."""
    words = [w.lower() for w in WORD.findall(query)]
    content = [w for w in words if w not in STOP_WORDS and w != "_"]
    terms = content or words
    return list(dict.fromkeys(terms))
