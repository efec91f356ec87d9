"""Entities and relations from text with the packaged spaCy model (en_core_web_sm, MIT).

Only the NER component runs (tok2vec + ner), which is the cheap part of the pipeline.
Numeric entity types (dates, amounts, ordinals) are kept out of the graph: they make poor
nodes. Two entities named in the same sentence are linked by a ``co_occurs`` relation, with the
chunk as its evidence.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from itertools import combinations
from typing import Any

from cairn.errors import ModelError
from cairn.kb.types import EntityMention, RelationIn
from cairn.text.nlp import SPACY_MODEL_NAME, SpacyModelMissing, load_spacy_english
from cairn.text.sentences import split_sentences

GRAPH_LABELS = frozenset(
    {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW"}
)


class EntityExtractor(ABC):
    name: str

    @abstractmethod
    def extract_batch(self, texts: Sequence[str]) -> list[list[EntityMention]]:
        """Mentions per text, offsets into that text."""

    def warm_up(self) -> None:  # noqa: B027 - optional hook
        pass


class SpacyExtractor(EntityExtractor):
    def __init__(self, batch_size: int = 64) -> None:
        self.name = SPACY_MODEL_NAME
        self.batch_size = batch_size
        self._nlp: Any = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            if self._nlp is not None:
                return
            try:
                self._nlp = load_spacy_english(
                    exclude=["parser", "tagger", "lemmatizer", "attribute_ruler", "senter"]
                )
            except SpacyModelMissing as err:
                raise ModelError(
                    "missing-package", f"the packaged spaCy model is missing: {err}"
                ) from err

    def extract_batch(self, texts: Sequence[str]) -> list[list[EntityMention]]:
        self.warm_up()
        out: list[list[EntityMention]] = []
        for doc in self._nlp.pipe(list(texts), batch_size=self.batch_size):
            out.append(
                [
                    EntityMention(e.text, e.label_, e.start_char, e.end_char)
                    for e in doc.ents
                    if e.label_ in GRAPH_LABELS and len(e.text.strip()) >= 2
                ]
            )
        return out


class CapitalisedExtractor(EntityExtractor):
    """Deterministic fake for unit tests: runs of capitalised words not at a sentence start."""

    name = "capitalised"

    def extract_batch(self, texts: Sequence[str]) -> list[list[EntityMention]]:
        import re

        out = []
        for text in texts:
            found = []
            for m in re.finditer(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-z]+(?:\s+[A-Z][a-z]+)*)", text):
                found.append(EntityMention(m.group(1), "ORG", m.start(1), m.end(1)))
            out.append(found)
        return out


def cooccurrence_relations(text: str, mentions: Sequence[EntityMention]) -> list[RelationIn]:
    """Link distinct entities that appear in the same sentence of ``text``."""
    rels: list[RelationIn] = []
    seen: set[tuple[str, str]] = set()
    for sent in split_sentences(text):
        keys = sorted({m.key for m in mentions if sent.start <= m.start < sent.end})
        for a, b in combinations(keys, 2):
            if (a, b) not in seen:
                seen.add((a, b))
                rels.append(RelationIn(a, "co_occurs", b))
    return rels
