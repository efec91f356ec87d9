"""Typed server settings: where to listen, which knowledge base, limits and the API key."""

from __future__ import annotations

import ipaddress
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from platformdirs import user_data_dir

from cairn.config import default_kb_path
from cairn.errors import ConfigError
from cairn.server.gate import GatedSTT, WorkGate

if TYPE_CHECKING:
    from cairn.answer.span import SpanSource
    from cairn.answer.types import Answer
    from cairn.answer.verify import SupportModel
    from cairn.kb.types import Source
    from cairn.knowledge import KnowledgeBase
    from cairn.models.stt import SpeechToText
    from cairn.models.tts import TextToSpeech

MB = 1_000_000
API_KEY_ENV = "CAIRN_API_KEY"


@dataclass(frozen=True)
class ServerSettings:
    """Everything ``create_app`` and ``cairn serve`` need; defaults are safe for one user.

    ``kb`` is a SQLite file or a ``postgresql://`` URL (default: ``$CAIRN_KB``, else the user
    data directory). ``data_dir`` holds uploaded files (``<data_dir>/uploads``); by default it
    is the folder of the SQLite file, or the user data directory for PostgreSQL.
    ``stt`` / ``tts`` are model specs for :func:`cairn.models.stt.load_stt` and
    :func:`cairn.models.tts.load_tts` (``None``: the defaults), loaded on first use.
    """

    host: str = "127.0.0.1"
    port: int = 8080
    kb: str | None = None
    api_key: str | None = None
    data_dir: Path | None = None
    max_body_bytes: int = 100 * MB
    max_upload_bytes: int = 100 * MB
    cors_origins: tuple[str, ...] = ()
    stt: str | None = None
    tts: str | None = None
    # CPU threads per model call (query encoder, Whisper, numpy's BLAS): the server gets its
    # parallelism from concurrent requests, not from threads inside one call.
    model_threads: int = 1
    # Whisper transcriptions running at once, and how many more may wait for a turn; beyond
    # that, transcription requests get 503 with Retry-After, so searches stay fast.
    max_transcriptions: int = 1
    transcription_queue: int = 2
    retry_after_s: int = 5
    # Transcriptions run at this nice value (Linux), below searches when the CPU is short.
    transcription_nice: int = 10

    def __post_init__(self) -> None:
        if self.max_body_bytes <= 0 or self.max_upload_bytes <= 0:
            raise ConfigError("bad-limit", "size limits must be positive")
        if not 0 <= self.transcription_nice <= 19:
            raise ConfigError("bad-nice", "transcription_nice must be between 0 and 19")
        if self.model_threads < 1 or self.max_transcriptions < 1 or self.transcription_queue < 0:
            raise ConfigError(
                "bad-limit",
                "model_threads and max_transcriptions must be at least 1, "
                "transcription_queue at least 0",
            )
        if not 0 < self.port < 65536:
            raise ConfigError("bad-port", f"--port {self.port}: must be between 1 and 65535")
        if self.api_key is not None and not self.api_key.strip():
            raise ConfigError("bad-api-key", "the API key must not be empty")

    def resolved_data_dir(self) -> Path:
        if self.data_dir is not None:
            return Path(self.data_dir).expanduser().resolve()
        kb = self.kb
        if kb and "://" in kb:
            return Path(user_data_dir("cairn", appauthor=False)).resolve()
        path = Path(kb).expanduser() if kb else default_kb_path()
        return path.resolve().parent

    @property
    def uploads_dir(self) -> Path:
        return self.resolved_data_dir() / "uploads"


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # another host name: may resolve to anything


def check_bind(settings: ServerSettings) -> None:
    """Refuse to listen beyond this machine without an API key."""
    if not is_loopback(settings.host) and not settings.api_key:
        raise ConfigError(
            "api-key-required",
            f"refusing to listen on {settings.host}, which other machines can reach, without "
            f"an API key: pass --api-key KEY or set ${API_KEY_ENV} (clients then send "
            "'Authorization: Bearer KEY'), or keep the default --host 127.0.0.1",
        )


class RecentAnswers:
    """The last answers this server gave, by (question asked, collections): lets a chat
    follow-up resolve "he"/"she" against the previous answer without asking it again."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, tuple[str, ...]], Answer] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, question: str, collections: Sequence[str]) -> Answer | None:
        with self._lock:
            return self._items.get((question, tuple(collections)))

    def put(self, question: str, collections: Sequence[str], answer: Answer) -> None:
        with self._lock:
            key = (question, tuple(collections))
            self._items[key] = answer
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def forget(self, source: Source) -> None:
        """Drop every answer that cites or names ``source`` (it holds its text)."""
        with self._lock:
            for key in [k for k, a in self._items.items() if _names(a, source.uri)]:
                del self._items[key]

    def items(self) -> list[Answer]:
        with self._lock:
            return list(self._items.values())


def _names(answer: Answer, uri: str) -> bool:
    return uri in json.dumps(answer.to_dict(), ensure_ascii=False, default=str)


class Services:
    """What the endpoints share: the settings, the one knowledge base, and the speech models
    (loaded on first use, once, even when requests race)."""

    def __init__(
        self,
        settings: ServerSettings,
        kb: KnowledgeBase,
        *,
        stt: SpeechToText | None = None,
        tts: TextToSpeech | None = None,
        spans: SpanSource | None = None,
        support_model: SupportModel | None = None,
        owns_kb: bool = False,
    ) -> None:
        self.settings = settings
        self.kb = kb
        self.spans = spans
        self.support_model = support_model
        self.owns_kb = owns_kb
        self.transcriptions = WorkGate(
            "speech recognition",
            settings.max_transcriptions,
            settings.transcription_queue,
            settings.retry_after_s,
        )
        nice = settings.transcription_nice
        self._stt: GatedSTT | None = GatedSTT(stt, self.transcriptions, nice=nice) if stt else None
        self._tts = tts
        self._lock = threading.Lock()
        self.answers = RecentAnswers()
        kb.on_forget.append(self.answers.forget)

    @property
    def stt(self) -> SpeechToText:
        """The speech-to-text model, behind the transcription gate (see ``gate.py``)."""
        with self._lock:
            if self._stt is None:
                from cairn.compose import speech_to_text

                inner = speech_to_text(self.settings.stt, cpu_threads=self.settings.model_threads)
                self._stt = GatedSTT(
                    inner, self.transcriptions, nice=self.settings.transcription_nice
                )
            return self._stt

    @property
    def tts(self) -> TextToSpeech:
        with self._lock:
            if self._tts is None:
                from cairn.compose import text_to_speech

                self._tts = text_to_speech(self.settings.tts)
            return self._tts

    @property
    def embedding_model_id(self) -> str:
        return self.kb.embedder.name

    def close(self) -> None:
        if self._stt is not None:
            self._stt.close()
        if self.owns_kb:
            self.kb.close()
