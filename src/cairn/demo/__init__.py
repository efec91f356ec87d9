"""A small bundled demo collection: three Wikipedia articles (CC BY-SA 4.0, see ATTRIBUTION.md)."""

from __future__ import annotations

from pathlib import Path

DEMO_DIR = Path(__file__).parent
DEMO_LICENSE = "CC-BY-SA-4.0"
DEMO_SOURCE_URL = "https://en.wikipedia.org/"
DEMO_QUESTION = "Who patented a steam engine that produced continuous rotary motion?"


def demo_files() -> list[Path]:
    return sorted(p for p in DEMO_DIR.glob("*.md") if p.name != "ATTRIBUTION.md")
