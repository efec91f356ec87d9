"""The words of registered API tools, for priming speech-to-text (see
:mod:`cairn.models.stt_context` and :func:`cairn.compose.speech_context`)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from cairn.tools.registry import ApiTool


def _words_of(identifier: str) -> str:
    """``listSeries`` / ``list_series`` -> ``list series``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", identifier)
    return " ".join(re.sub(r"[_\-./]+", " ", spaced).split())


def tool_terms(tools: Sequence[ApiTool]) -> list[str]:
    """The words of registered API tools: names, titles, operations and their summaries'
    names, parameter names and enum values. Each tool's name and title come first."""
    terms: list[str] = []
    for tool in tools:
        terms += [_words_of(tool.name), tool.spec.title]
        for op_id, op in tool.spec.operations.items():
            terms.append(_words_of(op_id))
            for param in op.params:
                terms.append(_words_of(param.name))
                terms += [str(v) for v in (param.enum or ()) if isinstance(v, str)]
    return terms


def tool_names(tools: Sequence[ApiTool]) -> list[str]:
    """Each tool's name and title: the words a request names a tool by."""
    return [term for tool in tools for term in (_words_of(tool.name), tool.spec.title)]
