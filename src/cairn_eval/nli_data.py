"""Training and report pairs for the claim check (``cairn.answer.nli``).

A pair is (claim, evidence sentence, label) with label ``supports`` / ``contradicts`` /
``neutral`` (the order of ``cairn.answer.nli.LABELS``). Three sources, all *fit* data:

* **SciFact claims_train** rationales: every rationale sentence of an evidence document takes
  the document's label; up to ``neutral_per_doc`` other sentences of the same document, and of
  the cited documents of claims without evidence, are ``neutral``. The dev split is only
  reported on (``cairn eval claims``), never read here.
* **Climate-FEVER**, split by claim: ``claim_part`` puts a claim in ``fit`` or ``held-out`` by
  the sha256 of its id (80 / 20); each evidence sentence keeps its own label (SUPPORTS,
  REFUTES, NOT_ENOUGH_INFO).
* **Synthetic contradictions** (``cairn.synthetic.contradictions``) of sentences from the
  fit documents only (SciFact documents cited by train claims, Climate-FEVER fit evidence):
  (edited sentence, original) is ``contradicts``, (original, original) ``supports``; and the
  supported SciFact train claims, negated or with a direction word flipped, against their
  rationale are ``contradicts``.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cairn.answer.nli import LABELS
from cairn.errors import ConfigError

SCIFACT = Path("../shared/benchdata/scifact/original_format")
CLIMATE_FEVER = Path("../shared/benchdata/climate-fever/climate-fever.jsonl")
HELD_OUT_SHARE = 0.2
_SCIFACT_LABEL = {"SUPPORT": 0, "CONTRADICT": 1}
_CF_LABEL = {"SUPPORTS": 0, "REFUTES": 1, "NOT_ENOUGH_INFO": 2}


@dataclass(frozen=True)
class NliPair:
    claim: str
    sentence: str
    label: int  # index into LABELS
    source: str  # scifact / climate-fever / synthetic:<edit>
    group: str  # the claim (or sentence) it came from, for per-group splits


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise ConfigError("missing-data", f"{path} not found")
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except ValueError as err:
                raise ConfigError("bad-data", f"{path}:{n}: not JSON ({err})") from err
    return out


def scifact_train_pairs(
    data: Path = SCIFACT, *, neutral_per_doc: int = 2, seed: int = 0
) -> tuple[list[NliPair], list[str]]:
    """SciFact claims_train pairs, and the sentences of the documents they cite."""
    rng = random.Random(seed)
    rows = _jsonl(data / "corpus.jsonl")
    corpus = {str(d["doc_id"]): list(map(str, d["abstract"])) for d in rows}
    pairs: list[NliPair] = []
    fit_sentences: list[str] = []
    for c in _jsonl(data / "claims_train.jsonl"):
        claim, group = str(c["claim"]), f"scifact:{c['id']}"
        evidence = c.get("evidence") or {}
        docs = {str(d) for d in c.get("cited_doc_ids", [])} | set(evidence)
        for doc in sorted(docs):
            sents = corpus.get(doc, [])
            fit_sentences.extend(sents)
            sets = evidence.get(doc, [])
            rationale = {int(i) for s in sets for i in s["sentences"]}
            for i in sorted(rationale):
                if i < len(sents):
                    label = _SCIFACT_LABEL[sets[0]["label"]]
                    pairs.append(NliPair(claim, sents[i], label, "scifact", group))
            others = [i for i in range(len(sents)) if i not in rationale]
            for i in rng.sample(others, min(neutral_per_doc, len(others))):
                pairs.append(NliPair(claim, sents[i], 2, "scifact", group))
    return pairs, fit_sentences


def claim_part(claim_id: str) -> str:
    """``fit`` or ``held-out``: a fixed split of Climate-FEVER by claim id."""
    h = int(hashlib.sha256(f"climate-fever:{claim_id}".encode()).hexdigest()[:8], 16)
    return "held-out" if h % 1000 < HELD_OUT_SHARE * 1000 else "fit"


def climate_fever_pairs(path: Path = CLIMATE_FEVER, part: str = "fit") -> list[NliPair]:
    """Every (claim, evidence sentence) pair of the claims in ``part``, with its own label."""
    if part not in {"fit", "held-out"}:
        raise ConfigError("bad-split", f"part must be fit or held-out, not {part!r}")
    out = []
    for c in _jsonl(path):
        cid = str(c["claim_id"])
        if claim_part(cid) != part:
            continue
        for ev in c.get("evidences", []):
            label = _CF_LABEL.get(str(ev.get("evidence_label")))
            if label is not None:
                out.append(
                    NliPair(str(c["claim"]), str(ev["evidence"]), label, "climate-fever", cid)
                )
    return out


def synthetic_pairs(
    sentences: Iterable[str],
    supported: Sequence[NliPair],
    nlp: Any,
    *,
    limit: int = 3000,
    seed: int = 0,
) -> list[NliPair]:
    """Synthetic contradictions (and copies that support) from fit sentences and claims."""
    from cairn.synthetic.contradictions import contradictions, entity_pool

    rng = random.Random(seed)
    pool_src = [s for s in dict.fromkeys(sentences) if 40 <= len(s) <= 240]
    rng.shuffle(pool_src)
    docs = list(nlp.pipe(pool_src[: limit // 2], batch_size=64))
    pool = entity_pool(docs)
    out: list[NliPair] = []
    for doc in docs:
        text = doc.text
        edits = list(contradictions(doc[:], pool, rng))
        if not edits:
            continue
        edit, new = rng.choice(edits)
        out.append(NliPair(new, text, 1, f"synthetic:{edit}", text))
        if rng.random() < 0.4:
            out.append(NliPair(text, text, 0, "synthetic:copy", text))
    claims = list(nlp.pipe([p.claim for p in supported], batch_size=64))
    for doc, p in zip(claims, supported, strict=True):
        edits = [e for e in contradictions(doc[:], pool, rng) if e[0] in {"negation", "antonym"}]
        if edits:
            edit, new = rng.choice(edits)
            out.append(NliPair(new, p.sentence, 1, f"synthetic-claim:{edit}", p.group))
    return out[:limit]


def label_counts(pairs: Sequence[NliPair]) -> dict[str, int]:
    return {name: sum(p.label == i for p in pairs) for i, name in enumerate(LABELS)}
