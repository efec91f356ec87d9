"""The composition root: the one place that builds Cairn's parts from settings.

The command line (``cairn voice`` and every command that opens a knowledge base through
``cairn.cli.common.open_kb``), the server (``server/app.py``, ``server/settings.Services``,
``native_api``'s voice stream) and the pipeline's ``prepare_*`` stages ask here for a ready part
instead of loading it themselves:

- :func:`open` -> :class:`Cairn`: the knowledge base (SQLite file or ``postgresql://`` URL)
  with ``ask``, ``synthesize`` and ``chat``; its embedder is the one the knowledge base
  recorded (``Store.embedding_model``) when that name is registered
  (:func:`cairn.models.embed.register_embedder`), else the packaged MiniLM, loaded on first
  use. ``cairn.open(...)`` is this function.
- :func:`speech_to_text`, :func:`text_to_speech`, :func:`language_model`: the models named by
  a spec (``--stt``, ``--tts``, ``--llm``, the server's settings).
- :func:`ready_speech_to_text`, :func:`ready_text_to_speech`: the same, loaded and warmed up,
  a failure raised as the stage's :class:`~cairn.errors.PipelineError`
  (:func:`stage_error`).
- :func:`tool_operations`: the operations of the API tools registered in a knowledge base;
  :func:`tool_matcher`: how one of them is chosen (the fast path, or a local LLM behind it).
- :func:`register_embedder` (from :mod:`cairn.models.embed`): make an embedder known by the
  model name it records, so that a knowledge base it filled opens with it.

It sits above the capabilities (``answer/``, ``command/``, ``tools/``) and below the pipeline
(``tests/test_import_layers.py``); the heavy modules are imported on first use.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from cairn.errors import CairnError, ModelError, PipelineError
from cairn.events import Stage
from cairn.kb.factory import open_store
from cairn.kb.protocol import Store
from cairn.knowledge import KnowledgeBase
from cairn.models.embed import (
    Embedder,
    recorded_embedder,
    register_embedder,
    registered_embedder,
)

if TYPE_CHECKING:
    from cairn.answer.chat import ChatSession
    from cairn.answer.synthesize import Synthesis
    from cairn.answer.types import Answer
    from cairn.command.schema_match import OperationIndex
    from cairn.command.tool_hybrid import HybridMatcher
    from cairn.graph.extract import EntityExtractor
    from cairn.models.llm import LLM
    from cairn.models.stt import SpeechToText
    from cairn.models.tts import TextToSpeech
    from cairn.search.engine import SearchConfig

__all__ = [
    "Cairn",
    "check_embedder",
    "embedder_for",
    "language_model",
    "open",
    "ready_speech_to_text",
    "ready_text_to_speech",
    "register_embedder",
    "speech_to_text",
    "stage_error",
    "text_to_speech",
    "tool_operations",
]


# --------------------------------------------------------------------------- knowledge base


def embedder_for(store: Store, *, threads: int | None = None) -> Embedder:
    """The embedder for ``store``: the one it recorded when that name is registered, else the
    default (packaged MiniLM). ``threads``: onnxruntime's thread count."""
    return recorded_embedder(store.embedding_model(), threads=threads)


def check_embedder(store: Store, embedder: Embedder | None) -> None:
    """A given ``embedder`` that cannot work with ``store``: both it and the model the store
    recorded are registered embedders, and they differ (their vectors are not comparable, so
    search and ingest would fail later). Any other pair is left to the store's own check on
    write, as before (a local folder may hold a compatible export of the recorded model)."""
    if embedder is None:
        return
    recorded = store.embedding_model()
    if (
        recorded
        and recorded != embedder.name
        and registered_embedder(recorded) is not None
        and registered_embedder(embedder.name) is not None
    ):
        raise ModelError(
            "embedding-model-mismatch",
            f"this knowledge base holds vectors from {recorded!r}, not {embedder.name!r}; "
            "open it without an embedder (it chooses its own) or use a new --kb",
        )


class Cairn(KnowledgeBase):
    """A :class:`~cairn.knowledge.KnowledgeBase` that also answers: ``ask``, ``synthesize``,
    ``chat`` (what ``cairn.open(...)`` returns). Its embedder, when none is given, is chosen
    from the model the knowledge base recorded (:func:`embedder_for`), on first use."""

    threads: int | None = None  # onnxruntime's threads for the embedder it chooses

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = embedder_for(self.store, threads=self.threads)
        return self._embedder

    def ask(self, question: str, **options: Any) -> Answer:
        """A cited answer, or an abstention (:func:`cairn.answer.ask.ask`)."""
        from cairn.answer.ask import ask

        return ask(self, question, **options)

    def synthesize(self, claim: str, **options: Any) -> Synthesis:
        """Evidence for and against ``claim`` (:func:`cairn.answer.synthesize.synthesize`)."""
        from cairn.answer.synthesize import synthesize

        return synthesize(self, claim, **options)

    def chat(self, llm: LLM | None = None, **options: Any) -> ChatSession:
        """A conversation whose follow-ups are rewritten from the earlier turns
        (:class:`cairn.answer.chat.ChatSession`)."""
        from cairn.answer.chat import ChatSession

        return ChatSession(self, llm, **options)


def open(
    path: str | Path | None = None,
    *,
    embedder: Embedder | None = None,
    extractor: EntityExtractor | None = None,
    search_config: SearchConfig | None = None,
    must_exist: bool = False,
    threads: int | None = None,
) -> Cairn:
    """Open (creating if needed) the knowledge base at ``path`` (default: ``$CAIRN_KB``).

    ``path`` is a SQLite file, or a ``postgresql://`` URL for the PostgreSQL backend.
    ``must_exist=True`` (for commands that only read or remove) creates nothing: a missing
    file is a ``kb-missing`` error. ``embedder``: ``None`` chooses it from the knowledge base
    (:func:`embedder_for`, with ``threads``); a given one is checked (:func:`check_embedder`).
    """
    store = open_store(path, create=not must_exist)
    try:
        check_embedder(store, embedder)
    except CairnError:
        store.close()
        raise
    kb = Cairn(store, embedder=embedder, extractor=extractor, search_config=search_config)
    kb.threads = threads
    return kb


# --------------------------------------------------------------------------- models


def speech_to_text(spec: str | None = None, **options: Any) -> SpeechToText:
    """The speech-to-text model named by ``spec`` (``None``/``"base"``: the packaged Whisper
    base; see :func:`cairn.models.stt.load_stt` for the others), not yet warmed up."""
    from cairn.models.stt import load_stt

    return load_stt(None if spec in (None, "base") else spec, **options)


def text_to_speech(spec: str | None = None) -> TextToSpeech:
    """The speech engine named by ``spec`` (``None``: the best installed; see
    :func:`cairn.models.tts.load_tts`)."""
    from cairn.models.tts import load_tts

    return load_tts(spec)


def language_model(spec: str | None) -> LLM | None:
    """The LLM named by ``spec`` (``--llm``), warmed up so that a missing package or model
    file fails here, with its install hint; ``None`` for no spec."""
    if not spec:
        return None
    from cairn.models.llm import load_llm

    llm = load_llm(spec)
    llm.warm_up()
    return llm


def stage_error(err: CairnError, stage: Stage, what: str = "") -> PipelineError:
    """``err`` as the failure of ``stage``: its code kept, its message after ``what: ``."""
    message = f"{what}: {err.message}" if what else err.message
    return PipelineError(err.code, message, stage=stage)


def ready_speech_to_text(model: SpeechToText | None = None, *, warm: bool = True) -> SpeechToText:
    """``model`` (default: :func:`speech_to_text`), loaded when ``warm``; a failure is the
    stt stage's error."""
    try:
        stt_model = model if model is not None else speech_to_text()
        if warm:
            stt_model.warm_up()
    except CairnError as err:
        raise stage_error(err, Stage.stt, "speech-to-text") from err
    return stt_model


def ready_text_to_speech(model: TextToSpeech | None = None) -> TextToSpeech:
    """``model`` (default: :func:`text_to_speech`), warmed up; a failure is the speak stage's
    error."""
    try:
        tts_model = model if model is not None else text_to_speech()
        tts_model.warm_up()
    except CairnError as err:
        raise stage_error(err, Stage.speak, "text-to-speech") from err
    return tts_model


# --------------------------------------------------------------------------- tools


def tool_operations(kb: KnowledgeBase) -> OperationIndex | None:
    """The operations of the API tools registered in ``kb`` (``None`` when there are none);
    a failure to read them is the understand stage's error."""
    from cairn.command.schema_match import tool_index

    try:
        index = tool_index(kb.store)
    except CairnError as err:
        raise stage_error(err, Stage.understand) from err
    return index if index.ops else None


def speech_context(store: Store) -> str | None:
    """The line that primes speech-to-text for this knowledge base: its titles, names and
    frequent terms, led by the names of its API tools (:mod:`cairn.models.stt_context`)."""
    from cairn.models.stt_context import kb_context
    from cairn.tools.registry import list_api_tools
    from cairn.tools.vocabulary import tool_names, tool_terms

    tools = list_api_tools(store)
    return kb_context(store, tool_terms(tools), tool_names(tools))


_matchers: dict[tuple[str, str], HybridMatcher | None] = {}


def tool_matcher() -> HybridMatcher | None:
    """How voice, chat and the server choose an operation: ``$CAIRN_TOOL_ENGINE``
    (fast|hybrid|llm, default fast) with the model in ``$CAIRN_TOOL_LLM`` (docs/tool-llm.md).
    ``None`` is the fast path alone. Built once per setting (a model loads once); a setting
    that cannot be used is the understand stage's error."""
    import os

    from cairn.command.tool_hybrid import ENGINE_ENV, TOOL_LLM_ENV, matcher_from_env

    key = (os.environ.get(ENGINE_ENV, "").strip(), os.environ.get(TOOL_LLM_ENV, "").strip())
    if key not in _matchers:
        try:
            _matchers[key] = matcher_from_env()
        except CairnError as err:
            raise stage_error(err, Stage.understand, "the tool engine") from err
    return _matchers[key]
