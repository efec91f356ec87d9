"""synthesize() with a claim checker: sources grouped by side, a one-line verdict, the JSON
sides, and the generative check's entailment rule. A deterministic fake implements the
``ClaimChecker`` protocol; tests/test_nli_integration.py runs the packaged model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

import cairn
from cairn.answer.generate import Draft, check_sentence
from cairn.answer.nli import Judgement, entailment
from cairn.answer.synthesize import Label, synthesize
from cairn.answer.types import Evidence
from cairn.knowledge import KnowledgeBase
from cairn.models.embed import HashingEmbedder
from helpers import fake_kb


class KeywordChecker:
    """Contradicts when the sentence says "not"/"failed", supports when it says "opened",
    else neutral; records what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def judge(self, claim: str, sentences: Sequence[str]) -> list[Judgement]:
        self.calls.append((claim, tuple(sentences)))
        out = []
        for s in sentences:
            low = s.lower()
            if " not " in low or "failed" in low:
                out.append(Judgement(0.05, 0.9, 0.05))
            elif "opened" in low:
                out.append(Judgement(0.85, 0.05, 0.10))
            else:
                out.append(Judgement(0.1, 0.1, 0.8))
        return out


class Fixed:
    """The same judgement for every sentence."""

    def __init__(self, j: Judgement) -> None:
        self.j = j

    def judge(self, claim: str, sentences: Sequence[str]) -> list[Judgement]:
        return [self.j for _ in sentences]


DOCS = {
    "a.txt": "The river bridge was opened in 1901 by the mayor. Trains crossed it daily.",
    "b.txt": "The river bridge was not finished in 1901, and its opening was delayed.",
    "c.txt": "The river bridge failed its load test in 1901.",
    "d.txt": "The river bridge of 1901 is painted green every spring.",
    "e.txt": "Cakes and bread are sold at the market on Saturdays.",
}


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return fake_kb(tmp_path_factory.mktemp("sides"), DOCS)


def test_sources_grouped_by_side(kb: KnowledgeBase) -> None:
    checker = KeywordChecker()
    s = synthesize(kb, "The river bridge was opened in 1901.", checker=checker)
    assert checker.calls and checker.calls[0][0] == "The river bridge was opened in 1901."
    assert s.checker == "nli"
    by = {Path(g.source).name: g for g in s.groups}
    assert by["a.txt"].verdict is Label.supports
    assert by["b.txt"].verdict is Label.contradicts
    assert by["c.txt"].verdict is Label.contradicts
    assert by["d.txt"].verdict is Label.mentions
    assert "e.txt" not in by
    assert s.verdict == (
        "Disputed: 1 independent source supports it, 2 independent sources contradict it."
    )
    assert {Path(g.source).name for g in s.side(Label.contradicts)} == {"b.txt", "c.txt"}
    item = by["c.txt"].items[0]
    assert item.judgement is not None and item.judgement.contradicts == pytest.approx(0.9)
    assert "claim check: contradicts" in item.reason
    # the text: verdict line, then each side with quote, source, licence and date
    assert s.text.splitlines()[1] == f"Verdict: {s.verdict}"
    assert "Supporting (1):" in s.text and "Contradicting (2):" in s.text
    assert "Mentioning (1):" in s.text
    assert "licence CC-BY-4.0" in s.text and "added 20" in s.text
    assert "\u201cThe river bridge failed its load test in 1901.\u201d" in s.text
    for g in s.groups:
        assert g.license == "CC-BY-4.0" and g.date and len(g.date) == 10
        for i in g.items:
            c = i.citation
            assert kb.document_text(c.document_id)[c.start : c.end] == c.quote


def test_json_sides(kb: KnowledgeBase) -> None:
    d = synthesize(kb, "The river bridge was opened in 1901.", checker=KeywordChecker()).to_dict()
    assert d["verdict"].startswith("Disputed:") and d["checker"] == "nli"
    assert [len(d["sides"][k]) for k in ("supporting", "contradicting", "mentioning")] == [1, 2, 1]
    first = d["sides"]["contradicting"][0]
    assert first["license"] == "CC-BY-4.0" and first["date"]
    ev = first["evidence"][0]
    assert ev["probabilities"]["contradicts"] == pytest.approx(0.9)
    assert ev["citation"]["quote"] in DOCS[Path(first["source"]).name]


def test_not_enough_evidence(kb: KnowledgeBase) -> None:
    neutral = Fixed(Judgement(0.3, 0.2, 0.5))  # below CHECK_DECIDES on both sides
    s = synthesize(kb, "The river bridge was opened in 1901.", checker=neutral)
    assert s.groups and all(g.verdict is Label.mentions for g in s.groups)
    assert s.verdict.startswith("Not enough evidence: no source supports or contradicts")
    assert "only mention" in s.verdict
    none = synthesize(kb, "Volcanoes erupt on Jupiter's moon Io.", checker=neutral)
    assert none.verdict.startswith("Not enough evidence") and not none.groups
    assert "Not enough evidence" in none.text


def test_same_title_counts_once(tmp_path: Path) -> None:
    kb = cairn.open(tmp_path / "kb.sqlite", embedder=HashingEmbedder())
    for name, note in (("one.md", ""), ("two.md", " (copy)")):  # the same work saved twice
        (tmp_path / name).write_text(
            f"# Bridge report\n\nThe river bridge was not opened in 1901.{note}", encoding="utf-8"
        )
    kb.ingest([tmp_path / "one.md", tmp_path / "two.md"], graph=False)
    s = synthesize(kb, "The river bridge was opened in 1901.", checker=KeywordChecker())
    titles = {g.title for g in s.groups}
    assert len(s.groups) == 2 and len(titles) == 1
    assert s.verdict == "Contradicted by 1 independent source; none supports it."
    kb.close()


def _ev(text: str) -> Evidence:
    return Evidence(1, "k", "Battles", "notes.txt", None, 0, len(text), text, 1, 1.0, 0.9, 1, 1, 1)


def test_generated_sentence_must_be_entailed() -> None:
    ev = [_ev("In 1288 the Tran defeated the Mongols at the Bach Dang river.")]
    emb = HashingEmbedder()
    draft = Draft("The Mongols were defeated by the Tran at the Bach Dang river.", (1,))
    ok = check_sentence(draft, ev, emb, threshold=0.0, checker=Fixed(Judgement(0.9, 0.05, 0.05)))
    assert ok.passed and ok.reason.startswith("entailed")
    bad = check_sentence(draft, ev, emb, threshold=0.0, checker=Fixed(Judgement(0.1, 0.8, 0.1)))
    assert not bad.passed and "contradicted" in bad.reason
    unsure = check_sentence(draft, ev, emb, threshold=0.0, checker=Fixed(Judgement(0.3, 0.2, 0.5)))
    assert not unsure.passed and "not entailed" in unsure.reason
    assert check_sentence(draft, ev, emb, threshold=0.0).passed  # no checker: the rules alone
    assert entailment(Fixed(Judgement(0.9, 0.0, 0.1)), "x", []) == (
        False,
        "no cited text to check against",
    )


def test_http_synthesize(
    kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from cairn.answer import nli
    from cairn.server.app import create_app
    from cairn.server.settings import ServerSettings

    monkeypatch.setattr(nli, "packaged_checker", KeywordChecker)
    app = create_app(ServerSettings(data_dir=tmp_path / "data"), kb=kb)
    client = TestClient(app)
    r = client.post("/api/synthesize", json={"claim": "The river bridge was opened in 1901."})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["checker"] == "nli" and d["verdict"].startswith("Disputed:")
    names = {k: {Path(s["source"]).name for s in v} for k, v in d["sides"].items()}
    assert names == {
        "supporting": {"a.txt"},
        "contradicting": {"b.txt", "c.txt"},
        "mentioning": {"d.txt"},
    }
    assert d["sides"]["contradicting"][0]["evidence"][0]["probabilities"]["neutral"] == 0.05
    bad = client.post("/api/synthesize", json={"claim": "", "k": 0})
    assert bad.status_code == 422
    wrong = client.post("/api/synthesize", json={"claim": "x", "collections": ["nope"]})
    assert wrong.status_code >= 400 and "nope" in wrong.text
