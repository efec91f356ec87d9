"""Errors Cairn raises. Each carries a stable ``code`` and a message meant for a person.

Stages wrap lower-level failures as ``XError(code, message) from err``, so a caller can
branch on ``code`` and show ``message`` as is.
"""

from __future__ import annotations


class CairnError(Exception):
    """Base class: ``code`` is stable and machine-readable, ``message`` is for people."""

    code: str = "error"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(CairnError):
    """A setting or argument has a bad value."""


class LoadError(CairnError):
    """A file could not be read into text (bad format, too large, not UTF-8, ...)."""

    def __init__(self, code: str, message: str, path: str | None = None) -> None:
        super().__init__(code, message)
        self.path = path  # the file or folder as the user named it, when known


class IngestError(CairnError):
    """Ingestion failed for a reason other than one file's content."""


class StoreError(CairnError):
    """The knowledge base could not be opened, migrated or written."""


class SearchError(CairnError):
    """A search request is invalid (empty query, unknown mode, ...)."""


class ModelError(CairnError):
    """A model could not be loaded or run (missing package, checksum mismatch, ...)."""


class NotFoundError(CairnError):
    """A named thing (source, document, run) does not exist."""


class PipelineError(CairnError):
    """A stage of a request failed: ``code`` is stable, ``message`` is for people, ``stage``
    says where (a :class:`cairn.events.Stage` name)."""

    def __init__(self, code: str, message: str, *, stage: str) -> None:
        super().__init__(code, message)
        self.stage = stage

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "stage": self.stage}
