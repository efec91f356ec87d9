"""What ``cairn adapt`` learns from: the synthetic questions of a collection, split three ways.

Documents (or, in a collection of fewer than ``MIN_DOCS_FOR_DOC_SPLIT`` documents, sentences)
are assigned by a hash of their key to one of three parts, so no sentence is in two:

* ``train`` (70%): reader pairs. Each answerable question with its sentence is a positive; the
  same question with two other sentences of its document, and each unanswerable look-alike with
  the sentence it was made against, are negatives (look-alikes weigh as SQuAD's plausible-answer
  sentences do: they are the hard ones).
* ``fit`` (15%): the support model's weights and threshold are refitted on these questions,
  asked of the whole knowledge base with the new reader.
* ``report`` (15%): the figures the manifest records, for the adapted and the packaged models.

Asked of the knowledge base, a look-alike made by pairing the question with a neighbouring
sentence is the original, answerable question; it is left out of ``fit`` and ``report``.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass

from cairn.answer.reader import pair_text
from cairn.synthetic.dataset import SourceText
from cairn.synthetic.questions import QAPair
from cairn.text.sentences import split_sentences
from cairn_eval.reader_train import Pair

MIN_DOCS_FOR_DOC_SPLIT = 10
SHARES = (("train", 70), ("fit", 85), ("report", 100))  # cumulative percentages
NEGATIVE_SENTENCES = 2  # other sentences of the document paired with each answerable question


@dataclass(frozen=True)
class HeldOut:
    """A held-out synthetic question, asked of the whole knowledge base."""

    qid: str
    question: str
    answer: str | None
    source: str
    doc_key: str
    answer_start: int | None  # into the document text

    @property
    def answerable(self) -> bool:
        return self.answer is not None


def _bucket(text: str) -> str:
    n = int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16) % 100
    return next(name for name, upto in SHARES if n < upto)


def _key(pair: QAPair, by_document: bool) -> str:
    key = f"{pair.source}\x1f{pair.doc_key}"
    return key if by_document else f"{key}\x1f{pair.start}"


def part_of(pair: QAPair, by_document: bool) -> str:
    return _bucket(_key(pair, by_document))


def split(pairs: Sequence[QAPair], n_docs: int) -> dict[str, list[QAPair]]:
    """Pairs by part; a key (document, or sentence in a small collection) is in one part only.

    A small collection can leave a held-out part without an answerable question by chance
    (15% of a dozen sentences); then the training key that hashes highest moves there, as long
    as training keeps at least one, so the support refit and the report always have questions.
    """
    by_document = n_docs >= MIN_DOCS_FOR_DOC_SPLIT
    out: dict[str, list[QAPair]] = {name: [] for name, _ in SHARES}
    for p in pairs:
        out[part_of(p, by_document)].append(p)
    for part in ("fit", "report"):
        if any(p.answerable for p in out[part]):
            continue
        movable = sorted(
            {_key(p, by_document) for p in out["train"] if p.answerable},
            key=lambda k: hashlib.sha256(k.encode("utf-8")).hexdigest(),
        )
        if len(movable) < 2:
            continue
        chosen = movable[-1]
        out[part] += [p for p in out["train"] if _key(p, by_document) == chosen]
        out["train"] = [p for p in out["train"] if _key(p, by_document) != chosen]
    return out


def reader_pairs(pairs: Sequence[QAPair], docs: Sequence[SourceText], seed: int) -> list[Pair]:
    """Reader training pairs from the ``train`` part (see the module docstring)."""
    rng = random.Random(seed)
    titles = {(d.source, d.doc_key): d.title for d in docs}
    sentences: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for d in docs:
        sentences[(d.source, d.doc_key)] = [
            (s.start, d.text[s.start : s.end]) for s in split_sentences(d.text)
        ]
    out = []
    for i, p in enumerate(pairs):
        where = (p.source, p.doc_key)
        title = titles.get(where, "")
        qid = f"syn{i}"
        if p.answerable:
            out.append(Pair(p.question, pair_text(title, p.sentence), 1, 0, qid))
            others = [t for start, t in sentences.get(where, []) if start != p.start]
            for text in rng.sample(others, min(NEGATIVE_SENTENCES, len(others))):
                out.append(Pair(p.question, pair_text(title, text), 0, 0, qid))
        else:
            out.append(Pair(p.question, pair_text(title, p.sentence), 0, 0, qid, hard=True))
    return out


def held_out(pairs: Sequence[QAPair], limit: int, seed: int) -> list[HeldOut]:
    """At most ``limit`` questions of a held-out part, as asked of the knowledge base."""
    answerable = {p.question for p in pairs if p.answerable}
    items = []
    for i, p in enumerate(pairs):
        if not p.answerable and (p.edit == "neighbour" or p.question in answerable):
            continue
        start = p.start + p.answer_start if p.answer_start is not None else None
        items.append(HeldOut(f"q{i}", p.question, p.answer, p.source, p.doc_key, start))
    if len(items) > limit:
        items = random.Random(seed).sample(items, limit)
    return items
