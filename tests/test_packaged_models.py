"""Packaged model files: one folder (``cairn/models/data``), each listed with its sha256."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from cairn.answer import nli, reader, span_rank, synthesize, verify
from cairn.models import embed, packaged
from cairn.models.packaged import DATA_DIR, SUMS, note_written, recorded_sums


def test_every_packaged_file_is_listed_with_its_checksum() -> None:
    on_disk = {p.name for p in DATA_DIR.iterdir() if p.is_file() and p != SUMS}
    sums = recorded_sums()
    assert on_disk == set(sums), "list each packaged file in SHA256SUMS (and nothing else)"
    for name, digest in sums.items():
        got = hashlib.sha256((DATA_DIR / name).read_bytes()).hexdigest()
        assert got == digest, f"{name}: recorded {digest[:12]}, file is {got[:12]}"


def test_the_runtime_reads_every_model_from_that_folder() -> None:
    paths = [
        reader.READER_PATH,
        nli.NLI_PATH,
        verify.WEIGHTS_PATH,
        span_rank.WEIGHTS_PATH,
        synthesize.WEIGHTS_PATH,
        embed.MINILM_TOKENIZER,
    ]
    assert {p.parent for p in paths} == {DATA_DIR}
    assert recorded_sums()["reader.onnx"] == reader.READER_SHA256
    assert recorded_sums()[embed.MINILM_TOKENIZER.name] == embed.MINILM_TOKENIZER_SHA256
    assert not any(Path(reader.__file__).parent.glob("*.onnx")), "binaries belong in models/data"


def test_a_trainer_replacing_a_file_in_place_records_its_new_checksum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setattr(packaged, "DATA_DIR", folder)
    monkeypatch.setattr(packaged, "SUMS", folder / "SHA256SUMS")
    weights = folder / "verifier.json"
    weights.write_text('{"w": [1]}\n', encoding="utf-8")
    assert note_written(weights)
    first = packaged.recorded_sha256("verifier.json")
    weights.write_text('{"w": [2]}\n', encoding="utf-8")
    assert note_written(weights)
    second = packaged.recorded_sha256("verifier.json")
    assert first != second == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert not note_written(tmp_path / "elsewhere.json")  # not a packaged file: nothing recorded
    assert set(packaged.recorded_sums()) == {"verifier.json"}
