"""A small bundled demo collection: three Wikipedia articles (CC BY-SA 4.0, see ATTRIBUTION.md)."""

from __future__ import annotations

import hashlib
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


def default_demo_kb(data_dir: Path | None = None) -> Path:
    """The demo knowledge base of this checkout (or installation): one per bundled-article
    folder, so two checkouts on one machine never share (and clean up) each other's demo.

    ``data_dir`` defaults to the user data directory (``~/.local/share/cairn`` on Linux).
    """
    if data_dir is None:
        from platformdirs import user_data_dir

        data_dir = Path(user_data_dir("cairn", appauthor=False))
    key = hashlib.sha256(str(DEMO_DIR.resolve()).encode()).hexdigest()[:12]
    return data_dir / "demo" / f"{key}.sqlite"


def forget_other_copies(kb: KnowledgeBase, collection: str = "demo") -> list[str]:
    """Forget bundled demo articles stored from another install or checkout.

    The default demo knowledge base is one per checkout (:func:`default_demo_kb`), but one
    given with ``--kb`` may be shared, so without this an answer could cite
    ``/old/checkout/.../cairn/demo/steam-engine.md``, a path that may be gone. Only sources of
    ``collection`` whose path is a bundled article's name inside a ``cairn/demo/`` folder
    other than this one are removed; anything else stays.
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
