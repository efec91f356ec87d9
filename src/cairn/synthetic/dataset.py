"""A synthetic question dataset from documents or a knowledge-base collection, as JSONL.

Two passes over the sentences: the first collects the collection's entities by type (the pool
the entity-swap and condition edits draw from), the second makes the answerable questions
(``questions.py``) and their unanswerable look-alikes (``lookalikes.py``). Deterministic for a
given seed. Every line of the JSONL file is one :class:`QAPair`.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cairn.errors import ModelError
from cairn.synthetic.lookalikes import lookalikes
from cairn.synthetic.questions import QAPair, questions_from_sentence
from cairn.text.nlp import SpacyModelMissing, load_spacy_english
from cairn.text.sentences import split_sentences

POOL_LABELS = ("PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "DATE", "PRODUCT", "EVENT")
MAX_SENTENCE_CHARS = 400


@dataclass(frozen=True)
class SourceText:
    """A document to make questions from."""

    text: str
    source: str = ""
    doc_key: str = ""
    title: str = ""


def load_nlp() -> Any:
    """The packaged spaCy model with its lemmatizer (questions need base verb forms)."""
    try:
        return load_spacy_english()
    except SpacyModelMissing as err:
        raise ModelError(
            "missing-package", f"synthetic questions need the packaged spaCy model: {err}"
        ) from err


def collection_texts(kb: Any, collection: str | None = None) -> Iterator[SourceText]:
    """The documents of a knowledge base (one collection, or all)."""
    for src in kb.sources(collection):
        for doc in kb.store.source_documents(src.id):
            yield SourceText(doc.text, src.uri, doc.doc_key, doc.title or "")


def _sentences(docs: Iterable[SourceText]) -> Iterator[tuple[SourceText, int, int, str, str]]:
    """(doc, start, end, sentence, next sentence) for each sentence of each document."""
    for doc in docs:
        spans = [
            s for s in split_sentences(doc.text) if 12 <= s.end - s.start <= MAX_SENTENCE_CHARS
        ]
        for i, s in enumerate(spans):
            nxt = spans[i + 1] if i + 1 < len(spans) else (spans[i - 1] if i else None)
            neighbour = doc.text[nxt.start : nxt.end] if nxt else ""
            yield doc, s.start, s.end, doc.text[s.start : s.end], neighbour


def build_pairs(
    docs: Iterable[SourceText],
    *,
    nlp: Any = None,
    seed: int = 13,
    max_sentences: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[QAPair]:
    """Answerable questions and their look-alikes from ``docs`` (see the module docstring)."""
    nlp = nlp or load_nlp()
    rows = list(_sentences(docs))[:max_sentences]
    parsed = list(nlp.pipe([r[3] for r in rows], batch_size=64))
    pool: dict[str, list[str]] = {}
    for doc in parsed:
        for ent in doc.ents:
            if ent.label_ in POOL_LABELS and ent.text not in pool.setdefault(ent.label_, []):
                pool[ent.label_].append(ent.text)
    rng = random.Random(seed)
    out: list[QAPair] = []
    for n, ((src, start, _end, _, neighbour), doc) in enumerate(zip(rows, parsed, strict=True)):
        if progress:
            progress(n + 1)
        for sent in doc.sents:
            for kind, question, ans in questions_from_sentence(sent):
                a0 = ans.start_char - sent.start_char
                common = {
                    "source": src.source,
                    "doc_key": src.doc_key,
                    "start": start + sent.start_char,
                    "end": start + sent.end_char,
                }
                out.append(
                    QAPair(
                        question,
                        ans.text,
                        True,
                        kind,
                        sent.text,
                        a0,
                        a0 + len(ans.text),
                        **common,  # type: ignore[arg-type]
                    )
                )
                for edit, q, context in lookalikes(
                    sent, kind, question, ans, pool, rng, neighbour or None
                ):
                    out.append(
                        QAPair(
                            q,
                            None,
                            False,
                            kind,
                            context,
                            edit=edit,
                            origin=question,
                            **common,  # type: ignore[arg-type]
                        )
                    )
    return out


def write_jsonl(pairs: Sequence[QAPair], path: str | Path) -> Path:
    p = Path(path).expanduser()
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("w", encoding="utf-8") as f:
        for pair in pairs:
            f.write(json.dumps(pair.to_dict(), ensure_ascii=False) + "\n")
    return p


def read_jsonl(path: str | Path) -> list[QAPair]:
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            out.append(QAPair(**json.loads(line)))
    return out
