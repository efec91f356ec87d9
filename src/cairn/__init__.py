"""Cairn: local-first grounded answers from your own data.

>>> import cairn
>>> kb = cairn.open("kb.sqlite")          # doctest: +SKIP
>>> kb.ingest(["notes/"], license="CC-BY-4.0")  # doctest: +SKIP
>>> kb.search("steam engine efficiency")  # doctest: +SKIP

The library is imported on first use of ``cairn.open`` / ``cairn.KnowledgeBase`` (PEP 562), so
``import cairn`` (and ``cairn --help``) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.errors import CairnError

if TYPE_CHECKING:
    from cairn.compose import open
    from cairn.knowledge import KnowledgeBase

__version__ = "0.1.0"
__all__ = ["CairnError", "KnowledgeBase", "__version__", "open"]


def __getattr__(name: str) -> Any:
    if name == "open":
        from cairn.compose import open

        return open  # a KnowledgeBase that also answers (cairn.compose.Cairn)
    if name == "KnowledgeBase":
        from cairn.knowledge import KnowledgeBase

        return KnowledgeBase
    raise AttributeError(f"module 'cairn' has no attribute {name!r}")
