"""Two-hop answers with the real packaged MiniLM encoder, spaCy model and reader."""

from __future__ import annotations

from pathlib import Path

import pytest

import cairn
from cairn.answer import ask

pytestmark = pytest.mark.integration

DOCS = {
    "nora_quill.md": (
        # The support check counts the question's words in the sentences (not in titles),
        # for a second hop as for a single one: with "she" for Nora Quill, the two hops read
        # together score 0.13, under the bar (two_hop.BRIDGE_SUPPORT), and ask abstains.
        "# Nora Quill\n\nNora Quill is an Irish actress from Galway. In 1998 Nora Quill starred "
        "in Harbour Lights, a drama about a lighthouse keeper.\n"
    ),
    "harbour_lights.md": (
        "# Harbour Lights\n\nHarbour Lights is a 1998 Irish drama film directed by Tomas "
        "Brenner. It was shot on the west coast of Ireland.\n"
    ),
    "lighthouses.md": (
        "# Lighthouses\n\nThe Old Harbour Lighthouse was built in 1874 on the northern pier. "
        "The Grey Point Lighthouse was built in 1902 on the southern cliffs.\n"
    ),
    "ada_vell.md": "# Ada Vell\n\nAda Vell is a singer. In 2004 she starred in Night Ferry.\n",
}


def test_two_hop_with_real_models(tmp_path: Path) -> None:
    files = []
    for name, text in DOCS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        files.append(tmp_path / name)
    with cairn.open(tmp_path / "kb.sqlite") as kb:
        kb.ingest(files, license="CC0-1.0")  # with the entity graph
        a = ask(kb, "Who directed the film in which Nora Quill starred?", two_hop=True)
        assert not a.abstained and a.short_answer == "Tomas Brenner"
        assert [c.hop for c in a.citations] == [1, 2]
        assert a.chain[0].bridge == "Harbour Lights"
        for c in a.citations:
            assert kb.document_text(c.document_id)[c.start : c.end] == c.quote
        q = "Which lighthouse is older, the Old Harbour Lighthouse or the Grey Point Lighthouse?"
        b = ask(kb, q, two_hop=True)
        assert b.short_answer == "Old Harbour Lighthouse"
        assert "1874" in b.citations[0].quote and "1902" in b.citations[1].quote
        # Nothing says who directed Night Ferry: no second hop, no answer naming a director.
        n = ask(kb, "Who directed the film in which Ada Vell starred?", two_hop=True)
        assert not n.chain
        assert n.short_answer != "Tomas Brenner"
