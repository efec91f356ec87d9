"""OpenAI-compatible endpoints under ``/v1``, so existing clients and SDKs can talk to Cairn.

- ``GET /v1/models``: ``cairn`` (answers), the embedding model, ``cairn-stt``, ``cairn-tts``.
- ``POST /v1/embeddings``: the knowledge base's own embedder (float or base64).
- ``POST /v1/chat/completions``: the last user message is asked of the knowledge base; the
  reply quotes and cites its sources (also as a structured ``citations`` list on the
  message), or abstains as a normal assistant message. ``stream: true`` sends SSE chunks.
- ``POST /v1/audio/transcriptions``: Whisper (json, text or verbose_json with words).
- ``POST /v1/audio/speech``: text to a WAV file.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from cairn.answer.ask import ask
from cairn.answer.chat import rewrite
from cairn.answer.types import Answer
from cairn.events import ignore
from cairn.models.stt import Transcript
from cairn.models.stt_context import MAX_CONTEXT_CHARS
from cairn.pipeline.stages import prime_stt
from cairn.server.native_api import JSON_ONLY, ServicesDep
from cairn.server.security import ApiError
from cairn.server.settings import Services

router = APIRouter(prefix="/v1", tags=["openai"])

CHAT_MODEL = "cairn"
EMBED_ALIAS = "cairn-embed"
STT_MODELS = ("cairn-stt", "whisper-1")
TTS_MODELS = ("cairn-tts", "tts-1", "tts-1-hd", "gpt-4o-mini-tts")
MAX_EMBED_INPUTS = 2048
MAX_EMBED_CHARS = 100_000
MAX_SPEECH_CHARS = 4096
# A chat request is bounded: at most this many messages and characters of text in all, and a
# follow-up is resolved against at most the last FOLLOWUP_WINDOW earlier user turns, so the
# work per request grows linearly with its length (10,000 messages once cost minutes of CPU).
MAX_CHAT_MESSAGES = 512
MAX_CHAT_CHARS = 200_000
FOLLOWUP_WINDOW = 8


def _unknown_model(model: str, known: list[str]) -> ApiError:
    return ApiError(
        404,
        "model_not_found",
        f"The model {model!r} does not exist on this server; use one of: {', '.join(known)}",
    )


def _words(text: str) -> int:
    return len(text.split())


# --------------------------------------------------------------------------- models


def _model_card(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 0, "owned_by": "cairn"}


def _model_ids(svc: Services) -> list[str]:
    return [CHAT_MODEL, svc.embedding_model_id, EMBED_ALIAS, STT_MODELS[0], TTS_MODELS[0]]


@router.get("/models")
def list_models(svc: ServicesDep) -> dict[str, Any]:
    """The models this server answers to."""
    return {"object": "list", "data": [_model_card(m) for m in _model_ids(svc)]}


@router.get("/models/{model_id}")
def get_model(svc: ServicesDep, model_id: str) -> dict[str, Any]:
    known = _model_ids(svc)
    if model_id not in known:
        raise _unknown_model(model_id, known)
    return _model_card(model_id)


# --------------------------------------------------------------------------- embeddings


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str
    input: str | list[str] | list[int] | list[list[int]]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = None
    user: str | None = None


@router.post("/embeddings", dependencies=JSON_ONLY)
def embeddings(svc: ServicesDep, body: EmbeddingRequest) -> dict[str, Any]:
    """Embed text with the knowledge base's embedder (L2-normalised float32)."""
    model_id = svc.embedding_model_id
    if body.model not in (model_id, EMBED_ALIAS):
        raise _unknown_model(body.model, [model_id, EMBED_ALIAS])
    texts = [body.input] if isinstance(body.input, str) else list(body.input)
    if not texts:
        raise ApiError(400, "invalid-input", "'input' must not be empty")
    if not all(isinstance(t, str) for t in texts):
        raise ApiError(400, "invalid-input", "token arrays are not supported: send text")
    strings = [str(t) for t in texts]
    if len(strings) > MAX_EMBED_INPUTS:
        raise ApiError(400, "invalid-input", f"at most {MAX_EMBED_INPUTS} inputs per request")
    for i, text in enumerate(strings):
        if not text.strip():
            raise ApiError(400, "invalid-input", f"input {i} is empty")
        if len(text) > MAX_EMBED_CHARS:
            raise ApiError(400, "invalid-input", f"input {i} is over {MAX_EMBED_CHARS} characters")
    embedder = svc.kb.embedder
    if body.dimensions is not None and body.dimensions != embedder.dim:
        raise ApiError(
            400, "invalid-dimensions", f"{model_id} has {embedder.dim} dimensions, not reducible"
        )
    vectors = embedder.embed_batch(strings)
    data = []
    for i, row in enumerate(vectors):
        value: str | list[float] = (
            base64.b64encode(row.astype("<f4").tobytes()).decode("ascii")
            if body.encoding_format == "base64"
            else [float(x) for x in row]
        )
        data.append({"object": "embedding", "index": i, "embedding": value})
    tokens = sum(_words(t) for t in strings)
    return {
        "object": "list",
        "data": data,
        "model": model_id,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


# --------------------------------------------------------------------------- chat


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    n: int | None = Field(default=None, ge=1)
    collections: list[str] = Field(
        default_factory=list, description="Cairn: only search these collections."
    )


def _text_of(message: ChatMessage) -> str:
    if isinstance(message.content, str):
        return message.content
    if not message.content:
        return ""
    return "\n".join(
        str(part.get("text", "")) for part in message.content if part.get("type") == "text"
    )


def check_chat_size(body: ChatRequest) -> None:
    """Refuse a conversation over ``MAX_CHAT_MESSAGES`` messages (400) or ``MAX_CHAT_CHARS``
    characters of text (413), before any work is done on it."""
    if len(body.messages) > MAX_CHAT_MESSAGES:
        raise ApiError(
            400,
            "too-many-messages",
            f"{len(body.messages):,} messages: a conversation may have at most "
            f"{MAX_CHAT_MESSAGES} (send the recent ones)",
        )
    total = 0
    for message in body.messages:
        total += len(_text_of(message))
        if total > MAX_CHAT_CHARS:
            raise ApiError(
                413,
                "conversation-too-long",
                f"the messages hold over {MAX_CHAT_CHARS:,} characters of text, the limit "
                "for one conversation (send the recent ones)",
            )


def _question(body: ChatRequest) -> str:
    for message in reversed(body.messages):
        if message.role == "user":
            text = _text_of(message).strip()
            if text:
                return text
            break
    raise ApiError(400, "invalid-messages", "no user message with text to answer")


def resolve_followup(svc: Services, body: ChatRequest) -> str:
    """The last user message made self-contained against the earlier user turns, by the
    rules ``cairn chat`` uses (:func:`cairn.answer.chat.rewrite`): "Who founded it?" after
    "When was Rosa's Bakery opened?" asks "Who founded Rosa's Bakery?".

    The earlier questions (the last ``FOLLOWUP_WINDOW``) are rewritten in order, each
    against the one before, as in a
    :class:`~cairn.answer.chat.ChatSession`; where this server answered a rewritten question
    recently, that answer is used too (it resolves "he"/"she" to a person it named).
    Assistant and system messages are not read: text in them never steers the answer.
    """
    question = _question(body)
    last = max(i for i, m in enumerate(body.messages) if m.role == "user")
    earlier: list[str] = []
    for m in reversed(body.messages[:last]):  # the newest turns, up to the window
        if len(earlier) >= FOLLOWUP_WINDOW:
            break
        if m.role == "user" and (text := " ".join(_text_of(m).split())):
            earlier.append(text)
    earlier.reverse()
    query: str | None = None
    answer: Answer | None = None
    for text in earlier:
        query = rewrite(text, query, answer)
        answer = svc.answers.get(query, body.collections)
    return rewrite(question, query, answer)


def reply_text(answer: Answer) -> str:
    """The answer as the assistant says it: cited quotes, then the numbered sources."""
    if answer.abstained:
        return answer.text  # already lists the closest sources
    lines = [answer.text, "", "Sources:"]
    for c in answer.citations:
        name = c.title or c.doc_key
        licence = c.license or "licence unknown"
        lines.append(f"[{c.n}] {name} ({c.source}; {licence}; chars {c.start}-{c.end})")
    return "\n".join(lines)


def _cairn_info(answer: Answer) -> dict[str, Any]:
    return {
        "abstained": answer.abstained,
        "reason": answer.reason,
        "short_answer": answer.short_answer,
        "support": round(answer.support, 4),
    }


@router.post("/chat/completions", response_model=None, dependencies=JSON_ONLY)
def chat_completions(svc: ServicesDep, body: ChatRequest) -> dict[str, Any] | StreamingResponse:
    """Ask the knowledge base; the reply cites its sources or says it cannot answer."""
    if body.model != CHAT_MODEL:
        raise _unknown_model(body.model, [CHAT_MODEL])
    if body.n not in (None, 1):
        raise ApiError(400, "invalid-n", "only n = 1 is supported")
    check_chat_size(body)
    question = " ".join(_question(body).split())
    query = resolve_followup(svc, body)
    answer = ask(
        svc.kb,
        query,
        collections=body.collections,
        spans=svc.spans,
        model=svc.support_model,
    )
    svc.answers.put(query, body.collections, answer)
    info = _cairn_info(answer) | {"query": query, "rewritten": query != question}
    text = reply_text(answer)
    citations = [c.to_dict() for c in answer.citations]
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if body.stream:
        return StreamingResponse(
            _stream(completion_id, created, text, citations, info),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    prompt_tokens = sum(_words(_text_of(m)) for m in body.messages)
    completion_tokens = _words(text)
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": CHAT_MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "citations": citations},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
        "cairn": info,
    }


def _pieces(text: str, words_per_piece: int = 8) -> list[str]:
    tokens = re.findall(r"\s*\S+", text)
    return [
        "".join(tokens[i : i + words_per_piece]) for i in range(0, len(tokens), words_per_piece)
    ]


def _stream(
    completion_id: str,
    created: int,
    text: str,
    citations: list[dict[str, Any]],
    info: dict[str, Any],
) -> Iterator[str]:
    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        payload = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": CHAT_MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            **extra,
        }
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    for piece in _pieces(text):
        yield chunk({"content": piece})
    yield chunk({"citations": citations}, "stop", cairn=info)
    yield "data: [DONE]\n\n"


# --------------------------------------------------------------------------- audio


def _read_upload(upload: UploadFile, max_bytes: int) -> bytes:
    data = upload.file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ApiError(413, "too-large", f"the audio file is over the limit of {max_bytes:,} bytes")
    return data


def _verbose(t: Transcript) -> dict[str, Any]:
    return {
        "task": "transcribe",
        "language": t.language,
        "duration": round(t.duration, 3),
        "text": t.text,
        "segments": [
            {
                "id": i,
                "seek": 0,
                "start": round(s.start, 3),
                "end": round(s.end, 3),
                "text": s.text,
                "tokens": [],
                "temperature": 0.0,
                "avg_logprob": 0.0,
                "compression_ratio": 0.0,
                "no_speech_prob": 0.0,
            }
            for i, s in enumerate(t.segments)
        ],
        "words": [
            {
                "word": w.text,
                "start": round(w.start, 3),
                "end": round(w.end, 3),
                "probability": round(w.probability, 4),
            }
            for s in t.segments
            for w in s.words
        ],
    }


@router.post("/audio/transcriptions", response_model=None)
def transcriptions(
    svc: ServicesDep,
    file: Annotated[UploadFile, File(description="WAV, FLAC, MP3, Ogg, WebM, M4A ...")],
    model: Annotated[str, Form()],
    language: Annotated[str | None, Form(max_length=16)] = None,
    prompt: Annotated[str | None, Form()] = None,
    response_format: Annotated[str, Form()] = "json",
    temperature: Annotated[float | None, Form()] = None,
) -> dict[str, Any] | PlainTextResponse:
    """Speech to text with Whisper. ``prompt`` primes it with words to expect; without one,
    it is primed with the knowledge base's names and terms. ``temperature`` is ignored."""
    if model not in STT_MODELS:
        raise _unknown_model(model, list(STT_MODELS))
    if response_format not in ("json", "text", "verbose_json"):
        raise ApiError(
            400,
            "unsupported-format",
            f"response_format {response_format!r}: use json, text or verbose_json",
        )
    svc.transcriptions.check()  # refuse now (503) rather than after reading the upload
    try:
        data = _read_upload(file, svc.settings.max_upload_bytes)
    finally:
        file.file.close()
    stt = svc.stt
    if prompt and prompt.strip():
        stt = stt.with_context(prompt.strip()[:MAX_CONTEXT_CHARS])
    else:
        stt = prime_stt(stt, svc.kb, ignore)
    transcript = stt.transcribe(
        data, language=language or None, word_timestamps=response_format == "verbose_json"
    )
    if response_format == "text":
        return PlainTextResponse(transcript.text)
    if response_format == "verbose_json":
        return _verbose(transcript)
    return {"text": transcript.text}


class SpeechRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str
    input: str = Field(min_length=1, max_length=MAX_SPEECH_CHARS)
    voice: str | dict[str, Any] | None = None
    response_format: str = "wav"
    speed: float | None = Field(default=None, gt=0, le=4)
    instructions: str | None = None


@router.post("/audio/speech", response_class=Response, dependencies=JSON_ONLY)
def speech(svc: ServicesDep, body: SpeechRequest) -> Response:
    """Text to speech as 16-bit PCM WAV (the server's configured engine and voice)."""
    if body.model not in TTS_MODELS:
        raise _unknown_model(body.model, list(TTS_MODELS))
    if body.response_format != "wav":
        raise ApiError(
            400,
            "unsupported-format",
            f"response_format {body.response_format!r}: this server only makes wav",
        )
    if not body.input.strip():
        raise ApiError(400, "invalid-input", "'input' must contain some text")
    wav = svc.tts.synthesize_wav(body.input)
    return Response(content=wav, media_type="audio/wav")
