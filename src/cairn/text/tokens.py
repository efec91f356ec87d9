"""Word regexes shared across layers.

Other word regexes still live beside the code that uses them, each tuned to its task (see
"One text toolkit" in docs/architecture.md): they split differently, so merging them is a
measured change, not a refactor.
"""

from __future__ import annotations

import re

# Runs of Unicode word characters: BM25 terms (search/query), the sentence a hit highlights
# (search/engine) and the n-grams an entity lookup tries (kb/sql_base).
WORD = re.compile(r"\w+", re.UNICODE)
