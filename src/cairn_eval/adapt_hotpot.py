"""A second domain for ``cairn adapt`` (issue 13, point 5): HotpotQA text nobody here tuned on.

The collection: the supporting sentences of the first ``examples`` HotpotQA questions, one
document per Wikipedia title (as ``bench/synthetic_probe.py`` builds it), ingested as one JSONL
file. Three kinds of question, each asked of the whole collection:

* **single-hop answerable**: ``cairn.synthetic`` questions made from those sentences, whose
  answer span is known by construction (right = the cited sentence holds it);
* **look-alikes**: their unanswerable edits (negation, entity swap, ...; the neighbour edit is
  left out, as ``adapt_data.held_out`` does: asked of the collection it is answerable);
* **absent entities**: real HotpotQA questions from later examples none of whose supporting
  titles is in the collection or named in its text (right = abstain).

Each is scored as ``cairn eval qa`` scores SQuAD (``score_at``), for any set of models.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cairn_eval.adapt_data import HeldOut

HOTPOT = Path("../shared/benchdata/hotpotqa-1000/test.json")  # as cairn_eval.hotpot
COLLECTION = "hotpot"


def _titled(evidence: Sequence[str]) -> list[tuple[str, str]]:
    out = []
    for ev in evidence:
        title, _, text = ev.partition(" | ")
        if text:
            out.append((title, text))
    return out


def collection_docs(data: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Title -> its supporting sentences of these examples, joined (first-seen order)."""
    docs: dict[str, list[str]] = {}
    for ex in data:
        for title, text in _titled(ex["evidence"]):
            if text not in docs.setdefault(title, []):
                docs[title].append(text)
    return {t: " ".join(s) for t, s in docs.items()}


def write_collection(docs: dict[str, str], path: Path) -> Path:
    """One JSONL record per title (``_id`` = title)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps({"_id": t, "title": t, "text": x}, ensure_ascii=False) for t, x in docs.items()
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def absent_entity_questions(
    data: Sequence[dict[str, Any]], docs: dict[str, str], n: int, seed: int = 13
) -> list[HeldOut]:
    """At most ``n`` HotpotQA questions (of ``data``, examples outside the collection) whose
    supporting titles are neither documents of ``docs`` nor named anywhere in their text, nor
    is the answer: the collection cannot answer them."""
    text = "\n".join(docs.values()).lower()
    out = []
    for i, ex in enumerate(data):
        titles = {t for t, _ in _titled(ex["evidence"])}
        if not titles or titles & docs.keys():
            continue
        if any(t.lower() in text for t in titles) or str(ex["answer"]).lower() in text:
            continue
        out.append(HeldOut(f"absent{i}", ex["question"], None, "", "", None))
    if len(out) > n:
        out = random.Random(seed).sample(out, n)
    return out


def by_edit(outcomes: Sequence[Any], edits: dict[str, str], model: Any) -> dict[str, str]:
    """Per kind of unanswerable question: abstained / asked, under ``model``'s threshold."""
    from cairn_eval.qa import decide

    counts: dict[str, list[int]] = {}
    for o in outcomes:
        if o.item.answerable:
            continue
        s, cand, _ = decide(model, o)
        counts.setdefault(edits.get(o.item.qid, "?"), []).append(
            int(cand is None or s < model.threshold)
        )
    return {k: f"{sum(v)}/{len(v)}" for k, v in sorted(counts.items())}
