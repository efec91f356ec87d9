"""`cairn_eval.claims`: claim verification on SciFact (supports / contradicts), two ways.

1. **Labels given the gold documents.** For every (claim, evidence document) pair of the
   split (SUPPORT or CONTRADICT; claims without evidence are skipped), every sentence of the
   document is judged against the claim by the claim check (``cairn.answer.nli``) and
   :func:`cairn.answer.synthesize.checked_verdict` decides, as ``synthesize`` does; beside
   it, in the same run, the cue model (every sentence scored by encoder cosine and key-term
   overlap, :func:`cairn.answer.synthesize.verdict`). Accuracy is two-way: a verdict
   of ``contradicts`` predicts CONTRADICT, anything else SUPPORT; beside it, the majority label
   of the *train* split predicted for every pair, and a strict three-way figure (``mentions``
   counts as wrong). Also: how :func:`label_sentence` labels the gold rationale sentences.
2. **Evidence-sentence recall from the whole corpus.** ``synthesize(kb, claim)`` over the
   SciFact corpus KB; a gold rationale sentence is *recalled* when a cited sentence comes from
   the same document and covers at least half of its characters. Recall = recalled gold
   rationale sentences / all gold rationale sentences of the split (micro), beside the gold
   document recall of the search (``k`` hits) and a lead baseline: as many sentences as
   ``synthesize`` cited, taken in document order from the top hits.

The contradiction model (``models/data/contradiction.json``) is fitted on the *train* claims only
(``--fit``): a logistic regression over the cues of each gold rationale sentence (label: its
document's label), then the sentence threshold (best accuracy on those sentences) and the
document threshold (best two-way accuracy of :func:`verdict` on the train pairs).

Run: ``python -m cairn_eval.claims --kb /tmp/sf.sqlite [--fit --save-weights] --out r.json``.
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

import numpy as np

from cairn.answer.evidence import coverage
from cairn.answer.nli import CheckerArg, ClaimChecker, resolve_checker
from cairn.answer.question import analyse, stems
from cairn.answer.synthesize import (
    CONTRADICTION_FEATURES,
    WEIGHTS_PATH,
    ContradictionModel,
    Label,
    checked_label,
    checked_verdict,
    contradiction_features,
    default_contradiction_model,
    label_sentence,
    synthesize,
    verdict,
)
from cairn.answer.types import Evidence
from cairn.errors import ConfigError
from cairn.knowledge import KnowledgeBase, open_kb
from cairn.models.embed import Embedder
from cairn.models.packaged import note_written
from cairn_eval.logistic import fit_logistic
from cairn_eval.metrics import summarize_latencies

DEFAULT_DATA = Path("../shared/benchdata/scifact/original_format")
COLLECTION = "beir-scifact"
MIN_COVER = 0.5  # share of a gold sentence's characters a cited sentence must cover


@dataclass(frozen=True)
class Pair:
    """A claim and one of its gold evidence documents."""

    claim_id: int
    claim: str
    doc_id: str
    label: str  # SUPPORT or CONTRADICT
    rationale: tuple[int, ...]  # indexes of the gold rationale sentences


@dataclass(frozen=True)
class SciFact:
    corpus: dict[str, tuple[str, tuple[str, ...]]]  # doc id -> (title, abstract sentences)
    pairs: tuple[Pair, ...]


def load_scifact(data: Path = DEFAULT_DATA, split: str = "dev") -> SciFact:
    """The corpus and the (claim, gold document) pairs of ``claims_{split}.jsonl``."""
    corpus_path, claims_path = data / "corpus.jsonl", data / f"claims_{split}.jsonl"
    for p in (corpus_path, claims_path):
        if not p.is_file():
            raise ConfigError(
                "missing-data", f"no {p.name} in {data} (SciFact original_format folder)"
            )
    corpus: dict[str, tuple[str, tuple[str, ...]]] = {}
    for n, line in enumerate(corpus_path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                d = json.loads(line)
                corpus[str(d["doc_id"])] = (str(d["title"]), tuple(map(str, d["abstract"])))
            except (ValueError, KeyError, TypeError) as err:
                raise ConfigError("bad-data", f"{corpus_path}:{n}: not a corpus line") from err
    pairs = []
    for n, line in enumerate(claims_path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            c = json.loads(line)
            for doc, sets in (c.get("evidence") or {}).items():
                rationale = sorted({int(i) for s in sets for i in s["sentences"]})
                pairs.append(
                    Pair(
                        int(c["id"]), str(c["claim"]), str(doc), sets[0]["label"], tuple(rationale)
                    )
                )
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as err:
            raise ConfigError("bad-data", f"{claims_path}:{n}: not a SciFact claim line") from err
    missing = sorted({p.doc_id for p in pairs} - set(corpus))
    if missing:
        raise ConfigError("bad-data", f"{claims_path}: documents {missing[:5]} not in the corpus")
    return SciFact(corpus, tuple(pairs))


def sentence_offsets(sentences: Sequence[str]) -> list[tuple[int, int]]:
    """Offsets of each sentence in ``" ".join(sentences)`` (the document text as ingested)."""
    out, pos = [], 0
    for s in sentences:
        out.append((pos, pos + len(s)))
        pos += len(s) + 1
    return out


def document_evidence(
    claim: str, doc_id: str, title: str, sentences: Sequence[str], embedder: Embedder
) -> list[Evidence]:
    """Every sentence of a document scored against the claim, as ``select_evidence`` does."""
    info = analyse(claim)
    vecs = embedder.embed_batch([info.text, *sentences])
    cos = (vecs[1:] @ vecs[0]).astype(np.float64)
    doc_cov = coverage(info, stems(" ".join(sentences)))
    out = []
    for i, ((start, end), text) in enumerate(
        zip(sentence_offsets(sentences), sentences, strict=True)
    ):
        ov = coverage(info, stems(text))
        out.append(
            Evidence(
                document_id=int(doc_id) if doc_id.isdigit() else 0,
                doc_key=doc_id,
                title=title,
                source="scifact",
                license=None,
                start=start,
                end=end,
                text=text,
                hit_rank=1,
                hit_score=0.0,
                cosine=float(cos[i]),
                overlap=ov,
                context_overlap=doc_cov,
                score=0.45 * float(cos[i]) + 0.4 * ov + 0.15 * doc_cov,
            )
        )
    return out


def score_pairs(
    data: SciFact, embedder: Embedder, *, progress: bool = True
) -> list[tuple[Pair, list[Evidence]]]:
    out = []
    for pair in data.pairs:
        title, sentences = data.corpus[pair.doc_id]
        out.append((pair, document_evidence(pair.claim, pair.doc_id, title, sentences, embedder)))
        if progress and len(out) % 100 == 0:
            sys.stderr.write(f"{len(out)}/{len(data.pairs)} claim-document pairs\n")
    return out


# -- fitting (train split only) ---------------------------------------------------------------
def _best_threshold(probs: np.ndarray, y: np.ndarray) -> float:
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    accs = [float(np.mean((probs >= t) == y)) for t in grid]
    return float(grid[int(np.argmax(accs))])


def fit_contradiction(scored: Sequence[tuple[Pair, list[Evidence]]]) -> ContradictionModel:
    """Fit the contradiction model on scored *train* pairs (see the module doc)."""
    rows, ys = [], []
    for pair, evs in scored:
        for i in pair.rationale:
            if i < len(evs):
                f = contradiction_features(pair.claim, evs[i].text, evs[i].cosine, evs[i].overlap)
                rows.append([1.0, *(f[k] for k in CONTRADICTION_FEATURES)])
                ys.append(float(pair.label == "CONTRADICT"))
    if not rows or len(set(ys)) < 2:
        raise ConfigError("bad-data", "fitting needs rationale sentences of both labels")
    x, y = np.array(rows), np.array(ys)
    w = fit_logistic(x, y)
    sent_thr = _best_threshold(1.0 / (1.0 + np.exp(-(x @ w))), y)
    model = ContradictionModel(
        dict(zip(CONTRADICTION_FEATURES, map(float, w[1:]), strict=True)),
        float(w[0]),
        sent_thr,
        0.5,
    )
    means = np.array([verdict(p.claim, evs, model)[1] for p, evs in scored])
    gold = np.array([p.label == "CONTRADICT" for p, _ in scored])
    doc_thr = _best_threshold(means, gold)
    return ContradictionModel(
        model.weights,
        model.bias,
        sent_thr,
        doc_thr,
        note=f"fitted by cairn_eval.claims on SciFact claims_train ({len(scored)} claim-document "
        f"pairs, {len(ys)} rationale sentences); thresholds = best train accuracy",
    )


# -- scoring ----------------------------------------------------------------------------------
def label_report(
    scored: Sequence[tuple[Pair, list[Evidence]]],
    model: ContradictionModel,
    majority: str,
    checker: ClaimChecker | None = None,
) -> dict[str, Any]:
    """Two-way and strict accuracy of the source verdicts, and the rationale sentence labels
    (by ``checker`` when given, else by the cue ``model``)."""
    confusion: Counter[str] = Counter()
    strict = two_way = 0
    sentence_labels: Counter[str] = Counter()
    for pair, evs in scored:
        judged = checker.judge(pair.claim, [e.text for e in evs]) if checker else []
        if judged:
            lab = checked_verdict(judged)[0]
        else:
            lab, _ = verdict(pair.claim, evs, model)
        pred = "CONTRADICT" if lab is Label.contradicts else "SUPPORT"
        confusion[f"{pair.label}->{lab.value}"] += 1
        two_way += pred == pair.label
        want = Label.contradicts if pair.label == "CONTRADICT" else Label.supports
        strict += lab is want
        for i in pair.rationale:
            if i < len(evs):
                got = (
                    checked_label(judged[i])
                    if judged
                    else label_sentence(pair.claim, evs[i], model)
                )
                sentence_labels[f"{pair.label}->{got[0]}"] += 1
    n = len(scored)
    labels = Counter(p.label for p, _ in scored)
    return {
        "pairs": n,
        "labels": dict(labels),
        "accuracy": _r(two_way / n) if n else 0.0,
        "majority_label": majority,
        "majority_baseline": _r(labels[majority] / n) if n else 0.0,
        "strict_accuracy": _r(strict / n) if n else 0.0,
        "contradict_recall": _r(
            confusion["CONTRADICT->contradicts"] / labels["CONTRADICT"]
            if labels["CONTRADICT"]
            else 0.0
        ),
        "confusion": dict(sorted(confusion.items())),
        "rationale_sentence_labels": dict(sorted(sentence_labels.items())),
    }


def _covers(start: int, end: int, g_start: int, g_end: int) -> bool:
    inter = min(end, g_end) - max(start, g_start)
    return inter >= MIN_COVER * max(1, g_end - g_start)


def retrieval_report(
    kb: KnowledgeBase,
    data: SciFact,
    model: ContradictionModel,
    *,
    collection: str = COLLECTION,
    k: int = 10,
    limit: int | None = None,
    progress: bool = True,
    checker: CheckerArg = "packaged",
) -> dict[str, Any]:
    """Evidence-sentence recall of ``synthesize`` over the whole corpus (see the module doc)."""
    by_claim: dict[int, list[Pair]] = {}
    for p in data.pairs:
        by_claim.setdefault(p.claim_id, []).append(p)
    claims = list(by_claim.items())
    if limit is not None:
        claims = claims[:limit]
    gold_total = recalled = lead_recalled = docs_total = docs_found = cited_total = 0
    verdict_right = verdict_total = 0
    ms: list[float] = []
    for _cid, pairs in claims:
        claim = pairs[0].claim
        t = time.perf_counter()
        syn = synthesize(kb, claim, collections=(collection,), k=k, model=model, checker=checker)
        ms.append((time.perf_counter() - t) * 1000)
        cited = [(g.doc_key, i.citation.start, i.citation.end) for g in syn.groups for i in g.items]
        cited_total += len(cited)
        hits = kb.search(claim, k=k, collections=(collection,))
        lead = _lead_sentences(data, [h.chunk.doc_key for h in hits], len(cited))
        gold_docs = {p.doc_id: p for p in pairs}
        docs_total += len(gold_docs)
        docs_found += len(gold_docs.keys() & {h.chunk.doc_key for h in hits})
        for p in pairs:
            offs = sentence_offsets(data.corpus[p.doc_id][1])
            for i in p.rationale:
                if i >= len(offs):
                    continue
                gs, ge = offs[i]
                gold_total += 1
                recalled += any(d == p.doc_id and _covers(s, e, gs, ge) for d, s, e in cited)
                lead_recalled += any(d == p.doc_id and _covers(s, e, gs, ge) for d, s, e in lead)
        for g in syn.groups:
            if g.doc_key in gold_docs:
                verdict_total += 1
                want = "CONTRADICT" if g.verdict is Label.contradicts else "SUPPORT"
                verdict_right += want == gold_docs[g.doc_key].label
        if progress and len(ms) % 50 == 0:
            sys.stderr.write(f"{len(ms)}/{len(claims)} claims searched\n")
    return {
        "claims": len(claims),
        "k": k,
        "gold_rationale_sentences": gold_total,
        "sentence_recall": _r(recalled / gold_total) if gold_total else 0.0,
        "lead_baseline_recall": _r(lead_recalled / gold_total) if gold_total else 0.0,
        "cited_sentences_per_claim": _r(cited_total / len(claims)) if claims else 0.0,
        "gold_document_recall_at_k": _r(docs_found / docs_total) if docs_total else 0.0,
        "verdict_accuracy_on_cited_gold_documents": (
            _r(verdict_right / verdict_total) if verdict_total else 0.0
        ),
        "cited_gold_documents": verdict_total,
        "latency_ms": summarize_latencies(ms),
    }


def _lead_sentences(data: SciFact, doc_keys: Sequence[str], n: int) -> list[tuple[str, int, int]]:
    """The first ``n`` sentences of the documents in hit order (the lead baseline)."""
    out: list[tuple[str, int, int]] = []
    for key in doc_keys:
        if key not in data.corpus:
            continue
        for s, e in sentence_offsets(data.corpus[key][1]):
            if len(out) >= n:
                return out
            out.append((key, s, e))
    return out


def check_kb(kb: KnowledgeBase, data: SciFact, collection: str = COLLECTION) -> None:
    """The KB must hold the SciFact corpus under ``collection`` with the same document ids."""
    if collection not in {s.provenance.collection for s in kb.sources()}:
        raise ConfigError(
            "missing-data",
            f"the knowledge base has no collection {collection!r}: ingest the SciFact corpus "
            f"first (cairn ingest ../shared/benchdata/scifact/corpus.jsonl "
            f"--collection {collection})",
        )
    probe = data.pairs[0].doc_id if data.pairs else None
    if probe is not None and not any(
        h.chunk.doc_key == probe
        for h in kb.search(data.corpus[probe][1][0], k=5, collections=(collection,))
    ):
        raise ConfigError(
            "bad-data",
            f"document {probe} is not found by its own first sentence: the KB's document ids "
            "do not match the SciFact corpus ids",
        )


def _r(x: float) -> float:
    return round(float(x), 4)


def run_claims_eval(
    kb: KnowledgeBase | None,
    *,
    data: Path = DEFAULT_DATA,
    split: str = "dev",
    fit: bool = False,
    save_weights: Path | None = None,
    k: int = 10,
    limit_claims: int | None = None,
    collection: str = COLLECTION,
    embedder: Embedder | None = None,
    checker: CheckerArg = "packaged",
) -> dict[str, Any]:
    """The full report; ``kb=None`` skips the retrieval part. ``checker=None``: the cue model
    alone (the report then has no claim-check rows)."""
    if split == "train":
        raise ConfigError("bad-split", "report on dev (train is what --fit fits on)")
    if embedder is None:
        embedder = kb.embedder if kb is not None else _default_embedder()
    report_data = load_scifact(data, split)
    if not report_data.pairs:
        raise ConfigError("bad-data", f"claims_{split}.jsonl has no claim with evidence")
    train = load_scifact(data, "train")
    majority = Counter(p.label for p in train.pairs).most_common(1)[0][0]
    model = default_contradiction_model()
    if fit:
        model = fit_contradiction(score_pairs(train, embedder))
        if save_weights is not None:
            save_weights.write_text(model.to_json() + "\n", encoding="utf-8")
            note_written(save_weights)
    scored = score_pairs(report_data, embedder)
    nli = resolve_checker(checker)
    report: dict[str, Any] = {
        "dataset": f"SciFact claims_{split} (original format), corpus 5,183 abstracts",
        "model": json.loads(model.to_json()),
        "checker": _checker_meta(nli),
        "labels_given_gold_documents": label_report(scored, model, majority, nli),
    }
    if nli is not None:  # the cue model, same pairs, same run
        report["labels_given_gold_documents_cue_model"] = label_report(scored, model, majority)
    if kb is not None:
        check_kb(kb, report_data, collection)
        report["evidence_retrieval"] = retrieval_report(
            kb, report_data, model, collection=collection, k=k, limit=limit_claims, checker=nli
        )
    return report


def _checker_meta(checker: ClaimChecker | None) -> dict[str, Any] | None:
    if checker is None:
        return None
    warm_up = getattr(checker, "warm_up", None)
    if callable(warm_up):  # an ONNX checker reads its metadata when the model loads
        warm_up()
    meta = getattr(checker, "meta", None) or {}
    path = getattr(checker, "path", None)
    return {"path": str(path) if path else None, "name": meta.get("name"), "date": meta.get("date")}


def _default_embedder() -> Embedder:
    from cairn.models.embed import load_embedder

    return load_embedder()


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--kb", type=Path, default=None, help="SciFact corpus KB (retrieval part)")
    ap.add_argument("--split", default="dev")
    ap.add_argument("--fit", action="store_true", help="fit the model on claims_train first")
    ap.add_argument("--save-weights", action="store_true", help=f"write {WEIGHTS_PATH.name}")
    ap.add_argument("--limit-claims", type=int, default=None)
    ap.add_argument("--no-checker", action="store_true", help="the cue model alone")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    save = WEIGHTS_PATH if args.save_weights else None
    if args.kb is None:
        report = run_claims_eval(
            None,
            data=args.data,
            split=args.split,
            fit=args.fit,
            save_weights=save,
            checker=None if args.no_checker else "packaged",
        )
    else:
        with open_kb(args.kb) as kb:
            report = run_claims_eval(
                kb,
                data=args.data,
                split=args.split,
                fit=args.fit,
                save_weights=save,
                limit_claims=args.limit_claims,
                checker=None if args.no_checker else "packaged",
            )
    text = json.dumps(report, indent=1)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
