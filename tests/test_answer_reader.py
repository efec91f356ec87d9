"""The answer-sentence reader: its exported graph, the packaged model, and its use in ask()."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from cairn.answer import ask
from cairn.answer.reader import READER_PATH, READER_SHA256, Reader, packaged_reader, pair_text
from cairn.answer.span import RuleSpans
from cairn.answer.verify import SupportModel
from cairn.errors import ModelError
from cairn.knowledge import KnowledgeBase
from cairn_eval import reader_train
from helpers import TOWN_DOCS, fake_kb

DIM, HEADS = reader_train.DIM, reader_train.HEADS


def _random_params(rng: np.random.Generator) -> dict[str, object]:
    def w(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.05).astype(np.float32)

    def gain() -> np.ndarray:
        return (1.0 + rng.standard_normal(DIM) * 0.05).astype(np.float32)

    layers = []
    for _ in range(reader_train.LAYERS):
        layer = {}
        for part in ("query", "key", "value"):
            layer[f"attention.self.{part}.weight"] = w(DIM, DIM)
            layer[f"attention.self.{part}.bias"] = w(DIM)
        layer["attention.output.dense.weight"] = w(DIM, DIM)
        layer["attention.output.dense.bias"] = w(DIM)
        layer["attention.output.LayerNorm.weight"] = gain()
        layer["attention.output.LayerNorm.bias"] = w(DIM)
        layer["intermediate.dense.weight"] = w(4 * DIM, DIM)
        layer["intermediate.dense.bias"] = w(4 * DIM)
        layer["output.dense.weight"] = w(DIM, 4 * DIM)
        layer["output.dense.bias"] = w(DIM)
        layer["output.LayerNorm.weight"] = gain()
        layer["output.LayerNorm.bias"] = w(DIM)
        layers.append(layer)
    return {
        "emb": {
            "position_embeddings.weight": w(512, DIM),
            "token_type_embeddings.weight": w(2, DIM),
            "LayerNorm.weight": gain(),
            "LayerNorm.bias": w(DIM),
        },
        "layers": layers,
        "h1_w": w(reader_train.FEATURES, reader_train.HIDDEN) * 4,
        "h1_b": w(reader_train.HIDDEN),
        "head_w": w(reader_train.HIDDEN) * 20,
        "head_b": np.float32(0.1),
    }


def _reference(p: dict, word: np.ndarray, ids: np.ndarray, types: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
    """The reader written out in numpy (one unpadded row): BERT, then the mean of the question's
    and of the passage's tokens, compared, and how well each question word is matched in the
    passage, through the MLP head."""

    def ln(x: np.ndarray, g: np.ndarray, b: np.ndarray) -> np.ndarray:
        m = x.mean(-1, keepdims=True)
        return (x - m) / np.sqrt(((x - m) ** 2).mean(-1, keepdims=True) + 1e-12) * g + b

    e = p["emb"]
    t = len(ids)
    x = word[ids] + e["position_embeddings.weight"][:t] + e["token_type_embeddings.weight"][types]
    x = ln(x, e["LayerNorm.weight"], e["LayerNorm.bias"])
    hd = DIM // HEADS
    erf = np.vectorize(math.erf)
    for la in p["layers"]:

        def dense(v: np.ndarray, name: str, la: dict = la) -> np.ndarray:  # type: ignore[type-arg]
            return v @ la[name + ".weight"].T + la[name + ".bias"]

        q, k, v = (
            dense(x, f"attention.self.{n}").reshape(t, HEADS, hd).transpose(1, 0, 2)
            for n in ("query", "key", "value")
        )
        s = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        c = (s @ v).transpose(1, 0, 2).reshape(t, DIM)
        x = ln(
            x + dense(c, "attention.output.dense"),
            la["attention.output.LayerNorm.weight"],
            la["attention.output.LayerNorm.bias"],
        )
        h = dense(x, "intermediate.dense")
        h = 0.5 * h * (1.0 + erf(h / math.sqrt(2.0)))
        x = ln(
            x + dense(h, "output.dense"),
            la["output.LayerNorm.weight"],
            la["output.LayerNorm.bias"],
        )
    u, v = x[types == 0].mean(0), x[types == 1].mean(0)
    u, v = u / np.linalg.norm(u), v / np.linalg.norm(v)
    xn = x / np.linalg.norm(x, axis=-1, keepdims=True)
    qt = (types == 0) & (ids != reader_train.CLS_ID) & (ids != reader_train.SEP_ID)
    pt = (types == 1) & (ids != reader_train.SEP_ID)
    best = (xn[qt] @ xn[pt].T).max(1)  # each question word's best match in the passage
    f = np.concatenate([u, v, 10 * u * v, np.abs(u - v), [10 * best.min(), 10 * best.mean()]])
    h = f @ p["h1_w"] + p["h1_b"]
    h = 0.5 * h * (1.0 + erf(h / math.sqrt(2.0)))
    return np.array(float(h @ p["head_w"] + p["head_b"]))


@pytest.mark.parametrize("int8", [False, True])
def test_exported_graph_computes_the_model(tmp_path: Path, int8: bool) -> None:
    onnx = pytest.importorskip("onnx")  # the [train] / [dev] extra
    rng = np.random.default_rng(0)
    params = _random_params(rng)
    word = (rng.standard_normal((30522, DIM)) * 0.05).astype(np.float32)
    path = tmp_path / "reader.onnx"
    onnx.save(reader_train.to_onnx(params, word, {"name": "test"}, int8=int8), str(path))
    reader = Reader(path)
    question = "When was the lighthouse built?"
    passages = [pair_text("Lighthouse", "It was built in 1874."), "A much longer passage " * 5]
    got = reader.logits(question, passages)
    assert reader.meta == {"name": "test"}
    assert got.shape == (2,)
    reader.warm_up()
    for i, enc in enumerate(reader._tokenizer.encode_batch([(question, p) for p in passages])):
        want = _reference(params, word, np.array(enc.ids), np.array(enc.type_ids))
        # float32 graph: exact up to rounding; int8-stored weights: close
        assert got[i] == pytest.approx(float(want), abs=1e-3, rel=0.03 if int8 else 0.0)
    if int8:
        assert path.stat().st_size < 30_000_000  # 4x smaller than float32 (~54 MB)


def test_packaged_reader_is_checked_and_reads() -> None:
    reader = packaged_reader()
    assert reader is not None, "reader.onnx ships with the package"
    assert hashlib.sha256(READER_PATH.read_bytes()).hexdigest() == READER_SHA256
    reader.warm_up()
    assert reader.meta["train_articles"], reader.meta
    q = "When was the Old Harbour Lighthouse built?"
    z = reader.logits(
        q,
        [
            pair_text("Lighthouse", "It was built in 1874 by the engineer Margaret Hale."),
            pair_text("Lighthouse", "The tower is 31 metres tall."),
            pair_text("Bakery", "Rosa's Bakery opened on Mill Street in 1992."),
        ],
    )
    assert z[0] > z[1] and z[0] > z[2], z
    assert reader.probabilities(q, []).shape == (0,)


def test_reader_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as err:
        Reader(tmp_path / "absent.onnx").logits("q?", ["p"])
    assert err.value.code == "model-missing"
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError) as err:
        Reader(bad, expected_sha256="0" * 64).logits("q?", ["p"])
    assert err.value.code == "checksum-mismatch"
    with pytest.raises(ModelError) as err:
        Reader(bad).logits("q?", ["p"])
    assert err.value.code == "model-invalid"


class _KeywordReader:
    """A deterministic reader: +8 for passages holding ``word``, -8 for the others."""

    def __init__(self, word: str) -> None:
        self.word = word
        self.calls: list[tuple[str, list[str]]] = []

    def logits(self, question: str, passages: Sequence[str]) -> np.ndarray:
        self.calls.append((question, list(passages)))
        return np.array([8.0 if self.word in p else -8.0 for p in passages], dtype=np.float32)


READER_ONLY = SupportModel({"reader": 6.0}, bias=0.0, threshold=0.5)


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return fake_kb(tmp_path_factory.mktemp("reader"), TOWN_DOCS)


def test_ask_answers_from_the_sentence_the_reader_trusts(kb: KnowledgeBase) -> None:
    reader = _KeywordReader("31 metres")
    a = ask(
        kb,
        "When was the Old Harbour Lighthouse built?",
        spans=RuleSpans(),
        model=READER_ONLY,
        reader=reader,
    )
    assert not a.abstained
    assert "31 metres" in a.citations[0].quote  # the reader decides, not term overlap
    question, passages = reader.calls[0]
    assert question == "When was the Old Harbour Lighthouse built?"
    assert all(p.split(". ", 1)[0] in {"lighthouse", "bakery", "notes"} for p in passages), passages


def test_ask_abstains_when_the_reader_trusts_nothing(kb: KnowledgeBase) -> None:
    a = ask(
        kb,
        "When was the Old Harbour Lighthouse built?",
        spans=RuleSpans(),
        model=READER_ONLY,
        reader=_KeywordReader("no such words"),
        explain=True,
    )
    assert a.abstained and a.reason == "low-support"
    assert a.candidates and all(c.features["reader"] == -1.0 for c in a.candidates)


def test_training_pairs_label_answers_and_plausible_traps(tmp_path: Path) -> None:
    ctx = "The lighthouse stands on the pier. It was built in 1874. It was repainted in 1990."
    data = {
        "data": [
            {
                "title": "Old_Lighthouse",
                "paragraphs": [
                    {
                        "context": ctx,
                        "qas": [
                            {
                                "id": "a",
                                "question": "When was the lighthouse built?",
                                "answers": [{"text": "1874", "answer_start": ctx.index("1874")}],
                            },
                            {
                                "id": "u",
                                "question": "When was the lighthouse demolished?",
                                "answers": [],
                                "plausible_answers": [
                                    {"text": "1990", "answer_start": ctx.index("1990")}
                                ],
                            },
                        ],
                    }
                ],
            },
            {"title": "Other", "paragraphs": [{"context": "Not used.", "qas": []}]},
        ]
    }
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    pairs = reader_train.build_pairs(path, [0])
    assert len(pairs) == 6  # 2 questions x 3 sentences of their paragraph
    by = {(p.qid, p.passage): p for p in pairs}
    built = by[("a", "Old Lighthouse. It was built in 1874.")]
    assert built.label == 1 and not built.hard
    trap = by[("u", "Old Lighthouse. It was repainted in 1990.")]
    assert trap.label == 0 and trap.hard
    assert sum(p.label for p in pairs) == 1 and sum(p.hard for p in pairs) == 1
    assert reader_train.build_pairs(path, [1]) == []


def test_training_cli_rejects_bad_arguments(tmp_path: Path) -> None:
    out = tmp_path / "r.onnx"
    for argv in (["--epochs", "0"], ["--lr", "2"], ["--train-articles", "9"]):
        with pytest.raises(SystemExit) as err:
            reader_train.main([*argv, "--out", str(out)])
        assert "must be" in str(err.value)
    with pytest.raises(SystemExit) as err:  # no base weights there (or no [train] extra)
        reader_train.main(["--base", str(tmp_path), "--out", str(out)])
    assert str(err.value).startswith("error: ")
    assert not out.exists()
