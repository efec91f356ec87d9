"""Cairn: local-first grounded answers from your own data.

>>> import cairn
>>> kb = cairn.open("kb.sqlite")          # doctest: +SKIP
>>> kb.ingest(["notes/"], license="CC-BY-4.0")  # doctest: +SKIP
>>> kb.search("steam engine efficiency")  # doctest: +SKIP
"""

from cairn.errors import CairnError
from cairn.knowledge import KnowledgeBase, open_kb

open = open_kb  # the public name is cairn.open()

__version__ = "0.1.0"
__all__ = ["CairnError", "KnowledgeBase", "__version__", "open"]
