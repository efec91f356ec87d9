"""`cairn_eval.hotpot`: does the cited evidence hold the answer? (HotpotQA, 1,000 questions).

The evidence sentences of all questions (``"Title | sentence"``) are pooled into one document
per Wikipedia title (sentences in order of first appearance, joined by a space) and ingested
into a fresh KB (collection ``hotpotqa``, no distractors). Every question then goes through
``ask``; a question *hits* when its answer string, under SQuAD normalisation (lower case,
no punctuation or articles, whole words), appears in the text of the sentences the answer
cites. Reported:

* answered share (the rest abstained);
* precision: hits among the answered questions;
* hit rate over all questions, abstentions counted as misses;
* the same restricted to span answers (HotpotQA's yes/no answers never occur in the text);
* the same with every question answered (threshold 0: the best candidate sentence);
* a no-abstention baseline measured in the same run: the best-matching sentence of the top
  search hit (``SearchHit.highlight``), and the ceiling: the answer anywhere in the top
  ``k`` passages;
* short-answer exact match / F1 on the answered questions, and ``ask`` latency p50 / p95;
* the same-run single-hop peer: ``ask(two_hop=False)`` (``ask`` before two-hop evidence), its
  answered share, precision, hit rate and latency on the same questions.

``half="even"`` / ``"odd"`` keeps only the questions at even / odd positions of the file (0-based):
two-hop evidence was designed and tuned on the even half, so the odd half is the report.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cairn.answer.ask import DEFAULT_K, ask
from cairn.errors import ConfigError
from cairn.knowledge import KnowledgeBase, open_kb
from cairn_eval.metrics import summarize_latencies
from cairn_eval.qa import exact_match, f1_score, normalize_answer

DEFAULT_DATA = Path("../shared/benchdata/hotpotqa-1000/test.json")
COLLECTION = "hotpotqa"
YES_NO = frozenset({"yes", "no"})
HALVES = {"all": -1, "even": 0, "odd": 1}  # which questions (0-based position in the file)


@dataclass(frozen=True)
class HotpotItem:
    question: str
    answer: str
    evidence: tuple[tuple[str, str], ...]  # (title, sentence)
    type: str

    @property
    def yes_no(self) -> bool:
        return normalize_answer(self.answer) in YES_NO


def load_hotpot(path: Path = DEFAULT_DATA) -> list[HotpotItem]:
    if not path.is_file():
        raise ConfigError("missing-data", f"no HotpotQA file at {path} (pass --data PATH)")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise ConfigError("bad-data", f"{path} is not JSON: {err}") from err
    if not isinstance(raw, list):
        raise ConfigError("bad-data", f"{path}: expected a list of questions")
    items = []
    for n, d in enumerate(raw):
        try:
            ev = []
            for line in d["evidence"]:
                title, sep, sentence = str(line).partition(" | ")
                if not sep or not sentence.strip():
                    raise ValueError(f"evidence {line!r} is not 'Title | sentence'")
                ev.append((title.strip(), sentence.strip()))
            items.append(
                HotpotItem(str(d["question"]), str(d["answer"]), tuple(ev), str(d.get("type", "")))
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ConfigError("bad-data", f"{path}: question {n}: {err}") from err
    return items


def write_corpus(items: Sequence[HotpotItem], path: Path) -> Path:
    """One JSONL record per title; unchanged content keeps its hash (ingest skips it)."""
    docs: dict[str, list[str]] = {}
    for item in items:
        for title, sentence in item.evidence:
            sents = docs.setdefault(title, [])
            if sentence not in sents:
                sents.append(sentence)
    body = "".join(
        json.dumps({"_id": t, "title": t, "text": " ".join(s)}, ensure_ascii=False) + "\n"
        for t, s in docs.items()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text(encoding="utf-8") != body:
        path.write_text(body, encoding="utf-8")
    return path


def contains_answer(text: str, answer: str) -> bool:
    """``answer`` occurs in ``text`` as whole words, under SQuAD normalisation."""
    a = normalize_answer(answer)
    return bool(a) and f" {a} " in f" {normalize_answer(text)} "


def _share(num: int, den: int) -> float:
    return round(num / den, 4) if den else 0.0


def run_hotpot_eval(
    kb: KnowledgeBase,
    *,
    data: Path = DEFAULT_DATA,
    corpus: Path,
    limit: int | None = None,
    k: int = DEFAULT_K,
    graph: bool = False,
    progress: bool = True,
    half: str = "all",
    offset: int = 0,
    rows: Path | None = None,
) -> dict[str, Any]:
    everything = load_hotpot(data)
    if half not in HALVES:
        raise ConfigError("bad-half", f"half {half!r}: must be one of {', '.join(HALVES)}")
    chosen = [it for i, it in enumerate(everything) if half == "all" or i % 2 == HALVES[half]]
    chosen = chosen[offset:]  # a shard: several processes share a slow machine's cores
    items = chosen[:limit] if limit is not None else chosen
    if not items:
        raise ConfigError("bad-data", f"{data} has no questions")
    path = write_corpus(everything, corpus)  # all evidence, even when asking only some
    t = time.perf_counter()
    rep = kb.ingest([path], collection=COLLECTION, license="CC-BY-SA-4.0", graph=graph)
    if rep.failed:
        raise ConfigError("bad-data", f"ingesting {path} failed: {rep.failed[0].message}")
    ingest_s = time.perf_counter() - t
    kb.embedder.warm_up()
    ask(kb, items[0].question, collections=(COLLECTION,))  # model loading is not latency
    counts: Counter[str] = Counter()
    ms: list[float] = []
    peer_ms: list[float] = []
    em: list[float] = []
    f1: list[float] = []
    examples: list[dict[str, Any]] = []
    for item in items:
        t = time.perf_counter()
        a = ask(kb, item.question, collections=(COLLECTION,), k=k, explain=True, two_hop=True)
        ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        one = ask(kb, item.question, collections=(COLLECTION,), k=k, two_hop=False)
        peer_ms.append((time.perf_counter() - t) * 1000)
        if not one.abstained:
            counts["peer_answered"] += 1
            counts["peer_hit"] += contains_answer(
                " ".join(c.quote for c in one.citations), item.answer
            )
        counts["two_hop"] += bool(a.chain)
        single_given = not a.abstained and not a.chain
        counts["single_given"] += single_given
        counts["single_given_hit"] += single_given and contains_answer(
            " ".join(c.quote for c in a.citations), item.answer
        )
        counts["two_hop_hit"] += bool(a.chain) and contains_answer(
            " ".join(c.quote for c in a.citations), item.answer
        )
        kind = "yes_no" if item.yes_no else "span"
        counts[kind] += 1
        cited = " ".join(c.quote for c in a.citations)
        hit = not a.abstained and contains_answer(cited, item.answer)
        if not a.abstained:
            counts["answered"] += 1
            counts[f"answered_{kind}"] += 1
            counts["hit"] += hit
            counts[f"hit_{kind}"] += hit
            short = a.short_answer or ""
            em.append(exact_match(short, [item.answer]))
            f1.append(f1_score(short, [item.answer]))
        if a.candidates:  # the best candidate, answered whatever its support (threshold 0)
            forced = contains_answer(a.candidates[0].evidence.text, item.answer)
            counts["forced_hit"] += forced
            counts[f"forced_hit_{kind}"] += forced
        hits = kb.search(item.question, k=k, collections=(COLLECTION,))
        if hits:
            top = hits[0]
            lo, hi = top.highlight or (top.chunk.start, top.chunk.end)
            doc = kb.document_text(top.chunk.document_id)
            counts["baseline_hit"] += contains_answer(doc[lo:hi], item.answer)
            counts[f"baseline_hit_{kind}"] += contains_answer(doc[lo:hi], item.answer)
        in_passages = any(contains_answer(h.chunk.text, item.answer) for h in hits)
        counts["ceiling"] += in_passages
        counts[f"ceiling_{kind}"] += in_passages
        if len(examples) < 5 and not a.abstained and not hit and not item.yes_no:
            examples.append({"question": item.question, "gold": item.answer, "answer": a.text})
        if rows is not None:  # one line per question, for merging shards
            with rows.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"q": item.question, "ms": ms[-1], "peer_ms": peer_ms[-1]}))
                f.write("\n")
        if progress and len(ms) % 100 == 0:
            sys.stderr.write(f"{len(ms)}/{len(items)} questions\n")
    n, spans = len(items), counts["span"]
    return {
        "dataset": f"HotpotQA: {n} of {len(everything)} questions; the evidence sentences of all "
        "of them ingested (no distractor paragraphs)",
        "documents": len({t for i in everything for t, _ in i.evidence}),
        "sentences": len({s for i in everything for s in i.evidence}),
        "ingest_seconds": round(ingest_s, 1),
        "k": k,
        "questions": n,
        "span_questions": spans,
        "yes_no_questions": counts["yes_no"],
        "answered": _share(counts["answered"], n),
        "abstained": _share(n - counts["answered"], n),
        "precision_answer_in_cited": _share(counts["hit"], counts["answered"]),
        "answer_in_cited_all": _share(counts["hit"], n),
        "span": {
            "answered": _share(counts["answered_span"], spans),
            "precision_answer_in_cited": _share(counts["hit_span"], counts["answered_span"]),
            "answer_in_cited_all": _share(counts["hit_span"], spans),
            "no_abstention_answer_in_cited": _share(counts["forced_hit_span"], spans),
            "baseline_top_hit_sentence": _share(counts["baseline_hit_span"], spans),
            "ceiling_answer_in_top_k_passages": _share(counts["ceiling_span"], spans),
        },
        "no_abstention_answer_in_cited_all": _share(counts["forced_hit"], n),
        "baseline_top_hit_sentence_all": _share(counts["baseline_hit"], n),
        "ceiling_answer_in_top_k_passages_all": _share(counts["ceiling"], n),
        "short_answer_exact_match": round(sum(em) / len(em), 4) if em else 0.0,
        "short_answer_f1": round(sum(f1) / len(f1), 4) if f1 else 0.0,
        "latency_ms": summarize_latencies(ms),
        "half": half,
        "two_hop_answers": _share(counts["two_hop"], n),
        "two_hop_precision": _share(counts["two_hop_hit"], counts["two_hop"]),
        "single_hop_answers_given": _share(counts["single_given"], n),  # two-hop on, one cited
        "single_hop_answers_precision": _share(counts["single_given_hit"], counts["single_given"]),
        "single_hop_peer": {
            "answered": _share(counts["peer_answered"], n),
            "precision_answer_in_cited": _share(counts["peer_hit"], counts["peer_answered"]),
            "answer_in_cited_all": _share(counts["peer_hit"], n),
            "latency_ms": summarize_latencies(peer_ms),
        },
        "examples_missed": examples,
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--kb", type=Path, default=Path("/tmp/hotpot-kb.sqlite"))
    ap.add_argument("--corpus", type=Path, default=Path("/tmp/hotpot-corpus/hotpot.jsonl"))
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--half", choices=sorted(HALVES), default="all")
    ap.add_argument("--offset", type=int, default=0, help="skip the first N chosen questions")
    ap.add_argument("--rows", type=Path, default=None, help="append per-question latencies")
    args = ap.parse_args(argv)
    with open_kb(args.kb) as kb:
        report = run_hotpot_eval(
            kb, data=args.data, corpus=args.corpus, limit=args.limit, half=args.half,
            offset=args.offset, rows=args.rows,
        )  # fmt: skip
    text = json.dumps(report, indent=1)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
