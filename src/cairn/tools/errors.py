"""The error every tool raises: :class:`ToolError`, with a stable ``code``.

Codes: ``api-bad-spec`` (an OpenAPI document Cairn cannot use), ``api-unknown-operation``,
``api-bad-params`` (checked before any request), ``api-blocked-host`` (not allow-listed, or a
private address, also after a redirect), ``api-connect-error``, ``api-timeout``,
``api-http-error`` (4xx/5xx, too many redirects), ``api-too-large``, ``api-bad-json``.
"""

from __future__ import annotations

from cairn.errors import CairnError


class ToolError(CairnError):
    """A tool could not be imported or called; ``code`` says why."""
