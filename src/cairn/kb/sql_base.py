"""What the SQL store backends (SQLite, PostgreSQL) share, below both of them.

Each backend keeps its dialect SQL and its connection handling; what does not depend on
either lives here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cairn.kb.types import ChunkIn, DocumentIn, EntityMention, RelationIn


# -- rebuilding documents from stored rows (the backends' source_documents) --------------------
def documents_from_rows(
    docs: Sequence[Sequence[Any]],
    chunks: Sequence[Sequence[Any]],
    mentions: Sequence[Sequence[Any]],
    relations: Sequence[Sequence[Any]],
) -> list[DocumentIn]:
    """Documents from rows: docs ``(id, doc_key, title, text, metadata)``, chunks ``(id,
    document_id, start, end, text, vector bytes | None)`` in order, mentions ``(chunk_id,
    name, label, start, end)`` and relations ``(chunk_id, subject_key, predicate, object_key)``."""
    by_chunk_m: dict[int, list[EntityMention]] = {}
    for cid, name, label, start, end in mentions:
        by_chunk_m.setdefault(int(cid), []).append(
            EntityMention(str(name), str(label), int(start), int(end))
        )
    by_chunk_r: dict[int, list[RelationIn]] = {}
    for cid, subject, predicate, obj in relations:
        by_chunk_r.setdefault(int(cid), []).append(
            RelationIn(str(subject), str(predicate), str(obj))
        )
    by_doc: dict[int, list[ChunkIn]] = {}
    for cid, doc_id, start, end, text, vector in chunks:
        by_doc.setdefault(int(doc_id), []).append(
            ChunkIn(
                start=int(start),
                end=int(end),
                text=str(text),
                vector=None if vector is None else bytes(vector),
                entities=by_chunk_m.get(int(cid), []),
                relations=by_chunk_r.get(int(cid), []),
            )
        )
    out = []
    for doc_id, doc_key, title, text, metadata in docs:
        meta = json.loads(metadata) if isinstance(metadata, str | bytes) else dict(metadata or {})
        out.append(
            DocumentIn(
                doc_key=str(doc_key),
                title=None if title is None else str(title),
                text=str(text),
                chunks=by_doc.get(int(doc_id), []),
                metadata={str(k): str(v) for k, v in meta.items()},
            )
        )
    return out
