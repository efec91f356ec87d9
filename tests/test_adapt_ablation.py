"""cairn_eval.adapt_ablation: the gold-paragraph AUC, configs asked with their own models, the
precision read off the curve at a coverage; a tiny KB with deterministic fakes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

import cairn
from cairn.answer.verify import SupportModel
from cairn.graph.extract import CapitalisedExtractor
from cairn.knowledge import KnowledgeBase
from cairn.models.embed import HashingEmbedder
from cairn_eval import adapt_ablation as ab
from cairn_eval.qa import COLLECTION, Outcome, QAItem

LIGHTHOUSE = (
    "The Old Harbour Lighthouse stands on the pier. It was built in 1874 by Margaret Hale. "
    "Its lamp was electrified in 1921."
)
BAKERY = "Rosa's Bakery opened on Mill Street in 1992. It sells sourdough bread every morning."
PARAGRAPHS = {"Lighthouse#0": ("Lighthouse", LIGHTHOUSE), "Bakery#0": ("Bakery", BAKERY)}

ANSWERABLE = QAItem(
    "a1",
    "When was the Old Harbour Lighthouse built?",
    "Lighthouse",
    "Lighthouse#0",
    (("1874", LIGHTHOUSE.index("1874")),),
)
LOOK_ALIKE = QAItem(
    "u1", "When was the Old Harbour Lighthouse demolished?", "Lighthouse", "Lighthouse#0", ()
)
BAKERY_Q = QAItem(
    "a2",
    "When did Rosa's Bakery open on Mill Street?",
    "Bakery",
    "Bakery#0",
    (("1992", BAKERY.index("1992")),),
)


class WordReader:
    """A deterministic reader: the logit is +3 when the passage holds the question's verb
    ("built", "open"), else -3 (the fake stands in for a reader that reads the verb)."""

    def logits(self, question: str, passages: Sequence[str]) -> np.ndarray:
        verbs = [w for w in ("built", "open", "demolished") if w in question]
        return np.array([3.0 if any(v in p for v in verbs) else -3.0 for p in passages])


READS = SupportModel({"reader": 10.0, "overlap": 1.0}, -1.0, 0.5)  # mostly the reader


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    folder = tmp_path_factory.mktemp("ab")
    corpus = folder / "squad.jsonl"
    corpus.write_text(
        "\n".join(
            f'{{"_id": "{k}", "title": "{t}", "text": "{x}"}}' for k, (t, x) in PARAGRAPHS.items()
        )
        + "\n",
        encoding="utf-8",
    )
    with cairn.open(
        folder / "kb.sqlite", embedder=HashingEmbedder(), extractor=CapitalisedExtractor()
    ) as base:
        base.ingest([corpus], collection=COLLECTION, graph=False)
        yield base


def test_gold_auc_ranks_answerable_over_unanswerable() -> None:
    items = [ANSWERABLE, BAKERY_Q, LOOK_ALIKE]
    assert ab.gold_auc(items, [0.9, 0.8, 0.1])["auc"] == 1.0
    assert ab.gold_auc(items, [0.1, 0.2, 0.9])["auc"] == 0.0
    assert ab.gold_auc(items, [0.5, 0.9, 0.5])["auc"] == 0.75  # a tie counts half
    with pytest.raises(ValueError, match="answerable and unanswerable"):
        ab.gold_auc([ANSWERABLE, BAKERY_Q], [0.5, 0.6])


def test_gold_paragraph_scores_read_the_gold_paragraph_with_the_configs_reader(
    kb: KnowledgeBase,
) -> None:
    items = [ANSWERABLE, LOOK_ALIKE, BAKERY_Q]
    config = ab.Config("fake", WordReader(), READS)
    scores = ab.gold_paragraph_scores(kb, items, PARAGRAPHS, config)
    assert len(scores) == 3 and all(0.0 <= s <= 1.0 for s in scores)
    # "built" is in the gold paragraph, "demolished" is not: the reader's logit decides
    assert scores[0] > 0.8 > 0.2 > scores[1]
    assert scores[2] > 0.8
    assert ab.gold_auc(items, scores)["auc"] == 1.0
    # the same questions, a reader that reads nothing: the look-alike is no longer apart
    blind = ab.Config("blind", WordReader(), SupportModel({"overlap": 1.0}, -1.0, 0.5))
    flat = ab.gold_paragraph_scores(kb, items, PARAGRAPHS, blind)
    assert flat[1] == pytest.approx(flat[0], abs=0.1)


def test_each_config_is_asked_with_its_own_support_model(kb: KnowledgeBase) -> None:
    items = [ANSWERABLE, LOOK_ALIKE, BAKERY_Q]
    answers_all = ab.Config("all", WordReader(), SupportModel({"overlap": 1.0}, 5.0, 0.5))
    abstains = ab.Config("none", WordReader(), SupportModel({"overlap": 1.0}, -9.0, 0.5))
    reads = ab.Config("reads", WordReader(), READS)
    rows = {
        c.name: ab.score_config(c, ab.run_config(kb, items, c))
        for c in (answers_all, abstains, reads)
    }
    assert rows["all"]["coverage_answerable"] == 1.0
    assert rows["all"]["abstention_unanswerable"] == 0.0
    assert rows["none"]["answered"] == 0 and rows["none"]["abstention_unanswerable"] == 1.0
    assert rows["reads"]["overall_accuracy"] == 1.0  # both answered from the right sentence
    assert rows["reads"]["latency_ms"]["n"] == 3
    assert rows["reads"]["precision_at_half_coverage"]["precision"] == 1.0


def test_precision_at_coverage_reads_the_highest_threshold_that_keeps_the_coverage() -> None:
    model = SupportModel({"overlap": 1.0}, 0.0, 0.5)

    def outcome(item: QAItem, support_logit: float, grounded: bool) -> Outcome:
        from cairn.answer.types import Candidate, Evidence

        ev = Evidence(
            document_id=0, doc_key=item.doc_key, title=None, source="s", license=None,
            start=0, end=1, text="x", hit_rank=1, hit_score=1.0, cosine=0.0, overlap=0.0,
            context_overlap=0.0, score=0.0, chunk_start=0, chunk_end=1,
        )  # fmt: skip
        cand = Candidate(ev, None, None, None, None, 0.0, {"overlap": support_logit})
        return Outcome(item, [cand], [grounded], 1.0)

    # answerable at logits 2 (right), 1 (right), -1 (right); a look-alike at 1.5
    outs = [
        outcome(ANSWERABLE, 2.0, True),
        outcome(BAKERY_Q, 1.0, True),
        outcome(ANSWERABLE, -1.0, True),
        outcome(LOOK_ALIKE, 1.5, False),
    ]
    half = ab.precision_at_coverage(model, outs, 0.5)
    assert half is not None
    assert half["coverage_answerable"] >= 0.5
    assert half["precision"] == pytest.approx(2 / 3, abs=1e-3)  # the look-alike outranks one
    full = ab.precision_at_coverage(model, outs, 1.0)
    assert full is not None and full["precision"] == 0.75
    assert ab.precision_at_coverage(model, outs[3:], 0.5) is None  # no answerable question


def test_bench_script_refuses_a_version_adapted_on_report_articles(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    version = tmp_path / "v1"
    version.mkdir()
    (version / "manifest.json").write_text(json.dumps({"source_titles": ["Warsaw"]}))
    script = Path(__file__).resolve().parents[1] / "bench" / "adapt_ablation.py"
    squad = (
        Path(__file__).resolve().parents[1] / "../shared/benchdata/squad2-dev-half/dev-v2.0.json"
    )
    if not squad.is_file():
        pytest.skip("SQuAD 2.0 dev half not present")
    run = subprocess.run(
        [sys.executable, str(script), "--report-kb", str(tmp_path / "kb.sqlite"),
         "--adapted", str(version), "--configs", "adapted", "--squad", str(squad),
         "--out", str(tmp_path / "o.json")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode != 0
    assert "was adapted on report articles: ['Warsaw']" in run.stderr
    assert not (tmp_path / "o.json").exists()


def test_support_is_refitted_for_another_reader_on_the_versions_fit_questions(
    tmp_path: Path,
) -> None:
    from cairn.synthetic.dataset import collection_texts, write_jsonl
    from cairn.synthetic.questions import QAPair
    from cairn_eval.adapt_data import held_out, split

    notes = tmp_path / "notes"
    notes.mkdir()
    for i in range(30):  # enough documents to split by document
        (notes / f"mill{i}.txt").write_text(
            f"Ann Lee built mill {i} in 1901. The mill {i} stood by the river.", encoding="utf-8"
        )
    version = tmp_path / "v1"
    with cairn.open(
        tmp_path / "kb.sqlite", embedder=HashingEmbedder(), extractor=CapitalisedExtractor()
    ) as kb:
        kb.ingest(sorted(notes.glob("*.txt")), graph=False)
        docs = list(collection_texts(kb))
        pairs = []
        for d in docs:
            i = d.text.split()[4]
            sent = d.text.split(". ")[0] + "."
            where = {"source": d.source, "doc_key": d.doc_key, "start": 0, "end": len(sent)}
            pairs.append(
                QAPair(f"Who built mill {i}?", "Ann Lee", True, "who", sent, 0, 7, **where)
            )
            pairs.append(
                QAPair(
                    f"Who demolished mill {i}?", None, False, "who", sent, edit="antonym", **where
                )
            )
        write_jsonl(pairs, version / "synthetic.jsonl")
        model, fit = ab.refit_support(kb, version, WordReader(), questions=100)
    expected = held_out(split(pairs, len(docs))["fit"], 100, 13)
    assert fit["questions"] == len(expected) > 0
    assert fit["answerable"] == sum(i.answerable for i in expected)
    assert model.weights["reader"] > 0  # the reader tells built from demolished here
    assert fit["overall_accuracy"] > fit["always_abstain_accuracy"]
    assert 0.05 <= model.threshold <= 0.95
