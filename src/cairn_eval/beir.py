"""Read a retrieval benchmark in BEIR layout (corpus, queries, qrels).

Supported layouts of a dataset folder, for a split such as ``test``:

* corpus: ``corpus_<split>.jsonl`` if present, else ``corpus.jsonl``;
  one ``{"_id", "title", "text"}`` object a line (``title`` may be absent or empty);
* queries: ``queries_<split>.jsonl`` if present, else ``queries.jsonl``;
  one ``{"_id", "text"}`` object a line; only the queries judged in the split's qrels are kept;
* qrels: ``qrels/<split>.tsv`` with ``query-id<TAB>corpus-id<TAB>score`` lines, after an optional
  header line of that form.

Plain BEIR downloads (SciFact, ...) use ``corpus.jsonl`` + ``queries.jsonl``; per-split files such
as NFCorpus's original release (``corpus_test.jsonl``, ``queries_test.jsonl``, ``qrels/test.tsv``)
are covered by the ``_<split>`` variants.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cairn.errors import ConfigError

_CODE = "bad-beir-dir"


@dataclass(frozen=True)
class BeirDataset:
    """One split of a BEIR-style dataset. Read the corpus lazily with :func:`iter_corpus`."""

    corpus_path: Path
    queries: dict[str, str]  # query id -> text, only queries judged in ``qrels``
    qrels: dict[str, dict[str, int]]  # query id -> doc id -> grade


def load_beir(dir: Path, split: str = "test") -> BeirDataset:
    """Locate the corpus and read the queries and qrels of ``split`` from the folder ``dir``.

    Raises ``ConfigError("bad-beir-dir", ...)`` naming the expected files when some are missing,
    and when a file is malformed or the qrels judge a query that has no text.
    """
    root = Path(dir)
    if not split or "/" in split or "\\" in split or split.startswith("."):
        raise ConfigError(_CODE, f"bad split name {split!r}: expected e.g. 'test' or 'dev'")
    if not root.is_dir():
        raise ConfigError(_CODE, f"{root} is not a folder; expected a BEIR dataset folder")

    corpus_path = _pick(root, [f"corpus_{split}.jsonl", "corpus.jsonl"], "corpus")
    qrels_path = root / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        have = sorted(p.stem for p in (root / "qrels").glob("*.tsv"))
        hint = f" (splits found: {', '.join(have)})" if have else ""
        raise ConfigError(
            _CODE,
            f"no qrels for split {split!r} in {root}: expected qrels/{split}.tsv{hint}",
        )
    queries_path = _pick(root, [f"queries_{split}.jsonl", "queries.jsonl"], "queries")

    qrels = read_qrels(qrels_path)
    if not qrels:
        raise ConfigError(_CODE, f"{qrels_path} has no judgments")
    all_queries = read_queries(queries_path)
    missing = [qid for qid in qrels if qid not in all_queries]
    if missing:
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise ConfigError(
            _CODE,
            f"{qrels_path} judges {len(missing)} queries with no text in {queries_path}: {shown}",
        )
    queries = {qid: all_queries[qid] for qid in qrels}
    return BeirDataset(corpus_path=corpus_path, queries=queries, qrels=qrels)


def _pick(root: Path, names: list[str], what: str) -> Path:
    for name in names:
        path = root / name
        if path.is_file():
            return path
    expected = " or ".join(names)
    raise ConfigError(_CODE, f"no {what} file in {root}: expected {expected}")


def _iter_json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as err:
                    raise ConfigError(
                        _CODE, f"{path}:{lineno}: not a JSON object ({err.msg})"
                    ) from err
                if not isinstance(obj, dict) or "_id" not in obj:
                    raise ConfigError(_CODE, f'{path}:{lineno}: expected an object with "_id"')
                yield lineno, obj
    except UnicodeDecodeError as err:
        raise ConfigError(_CODE, f"{path} is not UTF-8 text") from err
    except OSError as err:
        raise ConfigError(_CODE, f"cannot read {path}: {err.strerror or err}") from err


def _text_field(obj: dict[str, Any], key: str, path: Path, lineno: int) -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConfigError(_CODE, f'{path}:{lineno}: "{key}" must be a string')
    return value


def read_queries(path: Path) -> dict[str, str]:
    """All ``{"_id", "text"}`` lines of a queries JSONL file, as id -> text."""
    queries: dict[str, str] = {}
    for lineno, obj in _iter_json_lines(path):
        queries[str(obj["_id"])] = _text_field(obj, "text", path, lineno)
    return queries


def iter_corpus(path: Path) -> Iterator[tuple[str, str, str]]:
    """``(doc_id, title, text)`` for each line of a corpus JSONL file, streamed."""
    for lineno, obj in _iter_json_lines(path):
        yield (
            str(obj["_id"]),
            _text_field(obj, "title", path, lineno),
            _text_field(obj, "text", path, lineno),
        )


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """``query-id<TAB>corpus-id<TAB>score`` lines (optional header) as qid -> doc id -> grade.

    A pair judged twice keeps its highest grade.
    """
    qrels: dict[str, dict[str, int]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as err:
        raise ConfigError(_CODE, f"{path} is not UTF-8 text") from err
    except OSError as err:
        raise ConfigError(_CODE, f"cannot read {path}: {err.strerror or err}") from err
    first = True
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        is_first, first = first, False
        fields = line.rstrip("\r").split("\t")
        if len(fields) != 3:
            raise ConfigError(
                _CODE,
                f"{path}:{lineno}: expected 3 tab-separated fields "
                f"(query-id, corpus-id, score), got {len(fields)}",
            )
        qid, doc_id, score = (f.strip() for f in fields)
        try:
            grade = int(score)
        except ValueError:
            if is_first:
                continue  # header line: "query-id\tcorpus-id\tscore"
            raise ConfigError(
                _CODE, f"{path}:{lineno}: score {score!r} is not an integer"
            ) from None
        judged = qrels.setdefault(qid, {})
        judged[doc_id] = max(grade, judged.get(doc_id, grade))
    return qrels
