"""Antonyms from WordNet 3.0, read straight from the Debian ``wordnet-base`` data files.

No NLTK: ``data.adj`` (and ``data.adv``, ``data.verb``) lines hold each synset's words and its
pointers; an antonym pointer (``!``) names a target synset and word number. Only the files are
read, once, on first use. WordNet 3.0 licence: docs/licences.md.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

WORDNET_DIR = Path(os.environ.get("CAIRN_WORDNET_DIR", "/usr/share/wordnet"))
_FILES = ("data.adj", "data.adv", "data.verb")


def available(root: Path = WORDNET_DIR) -> bool:
    return (root / "data.adj").is_file()


def _parse(path: Path) -> dict[str, set[str]]:
    words: dict[str, list[str]] = {}  # synset offset -> its words (1-based by position)
    pointers: list[tuple[str, int, str, int]] = []  # (offset, source word, target, word)
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line or line.startswith(" "):
            continue  # the licence header lines start with two spaces
        fields = line.split(" | ", 1)[0].split()
        offset, n_words = fields[0], int(fields[3], 16)
        names = [fields[4 + 2 * i].split("(")[0].lower() for i in range(n_words)]
        words[offset] = names
        at = 4 + 2 * n_words
        n_ptr = int(fields[at])
        for i in range(n_ptr):
            symbol, target, _pos, st = fields[at + 1 + 4 * i : at + 5 + 4 * i]
            if symbol == "!":
                pointers.append((offset, int(st[:2], 16), target, int(st[2:], 16)))
    out: dict[str, set[str]] = {}
    for offset, src, target, dst in pointers:
        if target not in words or src == 0 or dst == 0:
            continue
        a, b = words[offset][src - 1], words[target][dst - 1]
        if "_" not in a and "_" not in b:
            out.setdefault(a, set()).add(b)
    return out


@lru_cache(maxsize=1)
def antonym_table(root: Path = WORDNET_DIR) -> dict[str, tuple[str, ...]]:
    """word -> its antonyms (single words only); empty when WordNet is not installed."""
    table: dict[str, set[str]] = {}
    for name in _FILES:
        path = root / name
        if path.is_file():
            for word, ants in _parse(path).items():
                table.setdefault(word, set()).update(ants)
    return {w: tuple(sorted(a)) for w, a in table.items()}


def antonyms(word: str, root: Path = WORDNET_DIR) -> tuple[str, ...]:
    return antonym_table(root).get(word.lower(), ())
