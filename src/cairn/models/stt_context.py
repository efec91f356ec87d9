"""Words to prime speech-to-text with: the names and terms of a knowledge base and its tools.

Whisper hears a name it expects far better than one it does not ("patented a steam engine ...
rotary motion" rather than "happened to dusty men ... loader emotion"). :func:`kb_context`
lists, best first, the document titles, the most mentioned entity names and the most frequent
content words of a knowledge base, then the names, titles, operations and enum values of its
registered API tools (handed in by :func:`cairn.compose.speech_context`), as one comma-separated
line for :meth:`SpeechToText.with_context` (faster-whisper's ``hotwords``). The line is capped
at :data:`MAX_CONTEXT_CHARS` (Whisper keeps at most 223 prompt tokens) and cached per knowledge-
base state, so a request pays for it once.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from cairn.kb.protocol import Store

__all__ = [
    "MAX_CONTEXT_CHARS",
    "context_text",
    "frequent_terms",
    "kb_context",
    "kb_terms",
    "key_phrases",
]

MAX_CONTEXT_CHARS = 600  # ~130 Whisper tokens: well inside the 223 the prompt may hold
MAX_SOURCES = 200  # the most recent sources read for entities and terms
MAX_ENTITIES = 40
MAX_FREQUENT = 25
MAX_PHRASES = 20
# Entity kinds that are numbers or dates: Whisper writes those well without help.
_NUMERIC_LABELS = frozenset({"DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL"})
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")
_STOPWORDS = frozenset(
    """
    about above after again against also although among another anything around because been
    before being below between both came cannot could does doing down during each even every
    first from further have having here hers herself himself into itself just know like made
    make many more most much must myself never only other others over same shall should since
    some such than that their theirs them themselves then there these they this those though
    through thus under until upon very were what when where whether which while whom whose
    will with within without would your yours yourself said says also used using uses well
    however therefore including later known called became become often usually several
    """.split()  # noqa: SIM905 - a word list reads better as text
)


def context_text(terms: Iterable[str], max_chars: int = MAX_CONTEXT_CHARS) -> str | None:
    """``terms`` (best first) as one comma-separated line of at most ``max_chars``
    characters: duplicates (ignoring case) and blank or control-character terms left out.
    ``None`` when nothing is left."""
    seen: set[str] = set()
    out: list[str] = []
    size = 0
    for term in terms:
        clean = " ".join(re.sub(r"[\x00-\x1f\x7f,]", " ", term).split())
        key = clean.lower()
        if not clean or key in seen or len(clean) > 60:
            continue
        extra = len(clean) + (2 if out else 0)
        if size + extra > max_chars:
            break
        seen.add(key)
        out.append(clean)
        size += extra
    return ", ".join(out) or None


def frequent_terms(texts: Iterable[str], limit: int = MAX_FREQUENT) -> list[str]:
    """Content words (4+ letters, not common function words) of ``texts``, most frequent
    first; each in its most frequent spelling."""
    total: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = {}
    for text in texts:
        for word in (w.strip("'-") for w in _WORD.findall(text)):
            key = word.lower()
            if len(key) >= 4 and key not in _STOPWORDS:
                total[key] += 1
                forms.setdefault(key, Counter())[word] += 1
    ranked = sorted(total, key=lambda k: (-total[k], k))
    return [forms[k].most_common(1)[0][0] for k in ranked[:limit]]


def key_phrases(texts: Iterable[str], limit: int = MAX_PHRASES) -> list[str]:
    """Pairs of adjacent content words that recur (``rotary motion``, ``packet switching``),
    most frequent first, each in its most frequent spelling."""
    total: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = {}
    for text in texts:
        for sentence in re.split(r"[.!?;:,()\[\]\n]+", text):
            words = [w.strip("'-") for w in _WORD.findall(sentence)]
            for first, second in itertools.pairwise(words):
                a, b = first.lower(), second.lower()
                if len(a) < 4 or len(b) < 4 or a in _STOPWORDS or b in _STOPWORDS:
                    continue
                key = f"{a} {b}"
                total[key] += 1
                forms.setdefault(key, Counter())[f"{first} {second}"] += 1
    ranked = sorted((k for k in total if total[k] >= 2), key=lambda k: (-total[k], k))
    return [forms[k].most_common(1)[0][0] for k in ranked[:limit]]


def _title_of(uri: str) -> str:
    path = urlsplit(uri).path if "://" in uri else uri
    stem = PurePosixPath(path.replace("\\", "/")).stem
    return re.sub(r"[_\-.]+", " ", stem).strip()


def kb_terms(store: Store, max_sources: int = MAX_SOURCES) -> list[str]:
    """Titles, then recurring word pairs, then entity names by their number of mentions, then
    frequent content words, of the ``max_sources`` most recently ingested sources."""
    sources = sorted(store.list_sources(), key=lambda s: s.id, reverse=True)[:max_sources]
    titles: list[str] = []
    mentions: Counter[str] = Counter()
    names: dict[str, Counter[str]] = {}
    texts: list[str] = []
    for source in sources:
        if source.uri.startswith("api://"):  # API rows: their tool's words come from the tool
            continue
        documents = store.source_documents(source.id)
        if not any(d.title for d in documents):
            titles.append(_title_of(source.uri))
        for doc in documents:
            if doc.title:
                titles.append(doc.title)
            texts.append(doc.text)
            for chunk in doc.chunks:
                for entity in chunk.entities:
                    if entity.label in _NUMERIC_LABELS or not _WORD.search(entity.name):
                        continue
                    mentions[entity.key] += 1
                    names.setdefault(entity.key, Counter())[entity.name] += 1
    ranked = sorted(mentions, key=lambda k: (-mentions[k], k))[:MAX_ENTITIES]
    entities = [names[k].most_common(1)[0][0] for k in ranked]
    return [*titles, *key_phrases(texts), *entities, *frequent_terms(texts)]


_cache: dict[tuple[Any, ...], str | None] = {}
_cache_lock = threading.Lock()


def _state(store: Store) -> tuple[Any, ...]:
    """What the context depends on: changes whenever a source or tool is added or removed."""
    stats = store.stats()
    sources = store.list_sources()
    tools = store.list_tools()
    return (
        id(store),
        stats.sources,
        stats.chunks,
        stats.entities,
        max((s.id for s in sources), default=0),
        max((s.ingested_at for s in sources), default=""),
        tuple(sorted((t.name, t.saved_at) for t in tools)),
    )


def kb_context(
    store: Store,
    tool_words: Sequence[str] = (),
    tool_names: Sequence[str] = (),
    max_chars: int = MAX_CONTEXT_CHARS,
) -> str | None:
    """The priming line for speech about this knowledge base (cached per its state).

    ``tool_words`` are the words of its API tools and ``tool_names`` their names, which lead
    the line; the composition root reads them from the tool registry
    (:func:`cairn.compose.speech_context`), so this module needs no tools of its own.
    """
    key = (*_state(store), tuple(tool_words), tuple(tool_names), max_chars)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    # Tool names first: they are few, and a request names one exactly or not at all.
    line = context_text([*tool_names, *kb_terms(store), *tool_words], max_chars)
    with _cache_lock:
        if len(_cache) > 16:
            _cache.clear()
        _cache[key] = line
    return line
