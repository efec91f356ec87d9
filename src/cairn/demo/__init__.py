"""A small bundled demo collection: three Wikipedia articles (CC BY-SA 4.0, see ATTRIBUTION.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cairn.knowledge import KnowledgeBase

DEMO_DIR = Path(__file__).parent
DEMO_LICENSE = "CC-BY-SA-4.0"
DEMO_SOURCE_URL = "https://en.wikipedia.org/"
DEMO_QUESTION = "Who patented a steam engine that produced continuous rotary motion?"


def demo_files() -> list[Path]:
    return sorted(p for p in DEMO_DIR.glob("*.md") if p.name != "ATTRIBUTION.md")


def forget_other_copies(kb: KnowledgeBase, collection: str = "demo") -> list[str]:
    """Forget bundled demo articles stored from another install or checkout.

    The demo knowledge base is shared by every checkout on a machine, so without this an
    answer could cite ``/old/checkout/.../cairn/demo/steam-engine.md``, a path that may be
    gone. Only sources of ``collection`` whose path is a bundled article's name inside a
    ``cairn/demo/`` folder other than this one are removed; anything else stays.
    """
    current = {str(p.resolve()) for p in demo_files()}
    names = {Path(p).name for p in current}
    gone = []
    for source in kb.sources(collection):
        path = Path(source.uri)
        if (
            source.uri not in current
            and path.name in names
            and path.parent.name == "demo"
            and path.parent.parent.name == "cairn"
        ):
            kb.forget(source.id)
            gone.append(source.uri)
    return gone
