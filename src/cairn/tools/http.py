"""A deliberately narrow HTTP client for calling outside APIs from a tool.

Every hop (the first request and each redirect, followed here by hand, at most
``max_redirects``) is checked before anything is sent:

1. the scheme is http or https, and the host is on the allow-list;
2. the host is resolved (``socket.getaddrinfo``) and *every* address it resolves to must be
   public: private, loopback, link-local, multicast, reserved and unspecified addresses are
   refused unless allowed (``allow_private=True``, or a set of ``"host"``/``"host:port"``);
3. the connection then goes to the address that was checked (the Host header and TLS SNI keep
   the name), so a second DNS answer cannot point the request elsewhere.

Timeouts: ``connect_timeout`` for connecting, ``total_timeout`` for the whole call, redirects
and body included. Bodies are streamed and the call aborted once ``max_bytes`` is passed.
Proxies from the environment are ignored (a proxy would bypass the address check).
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from cairn.tools.errors import ToolError

DEFAULT_MAX_BYTES = 5_000_000
REDIRECT_CODES = (301, 302, 303, 307, 308)
USER_AGENT = "cairn-tools/0.1"

Resolver = Callable[..., list[tuple[Any, ...]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class HttpPolicy:
    """What a call may reach, and for how long."""

    allowed_hosts: frozenset[str]
    allow_private: bool | frozenset[str] = False
    connect_timeout: float = 5.0
    total_timeout: float = 20.0
    max_bytes: int = DEFAULT_MAX_BYTES
    max_redirects: int = 5

    @classmethod
    def make(
        cls,
        allowed_hosts: Collection[str],
        *,
        allow_private: bool | Collection[str] = False,
        **kwargs: Any,
    ) -> HttpPolicy:
        private = (
            allow_private
            if isinstance(allow_private, bool)
            else frozenset(h.strip().lower() for h in allow_private)
        )
        hosts = frozenset(_norm_host(h) for h in allowed_hosts if h.strip())
        return cls(hosts, private, **kwargs)


@dataclass(frozen=True)
class HttpResponse:
    status: int
    url: str  # the final URL, after redirects
    headers: dict[str, str]
    body: bytes
    redirects: tuple[str, ...] = ()

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            kind = self.headers.get("content-type", "unknown type")
            raise ToolError(
                "api-bad-json", f"{self.url} did not return JSON ({kind}): {err}"
            ) from err


def _norm_host(host: str) -> str:
    return host.strip().lower().rstrip(".").removeprefix("[").removesuffix("]")


def is_public(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


class SafeHttpClient:
    """GET/POST JSON APIs under an :class:`HttpPolicy`. ``transport`` is for tests only."""

    def __init__(
        self,
        policy: HttpPolicy,
        *,
        resolver: Resolver = socket.getaddrinfo,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.policy = policy
        self._resolve = resolver
        self._transport = transport

    # -- checks -------------------------------------------------------------------------------
    def _private_ok(self, host: str, port: int) -> bool:
        allow = self.policy.allow_private
        if isinstance(allow, bool):
            return allow
        return host in allow or f"{host}:{port}" in allow

    def check(self, url: httpx.URL) -> IPAddress:
        """The address to connect to for ``url``; ToolError ``api-blocked-host`` if none may be."""
        if url.scheme not in ("http", "https"):
            raise ToolError("api-blocked-host", f"{url}: only http and https URLs are allowed")
        host = _norm_host(url.host)
        if host not in self.policy.allowed_hosts:
            allowed = ", ".join(sorted(self.policy.allowed_hosts)) or "none"
            raise ToolError(
                "api-blocked-host",
                f"{host} is not an allowed host for this tool (allowed: {allowed})",
            )
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            infos = self._resolve(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as err:
            raise ToolError("api-connect-error", f"cannot resolve {host}: {err}") from err
        addresses: list[IPAddress] = []
        for info in infos:
            raw = str(info[4][0]).split("%", 1)[0]
            ip = ipaddress.ip_address(raw)
            if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
                ip = ip.ipv4_mapped
            if ip not in addresses:
                addresses.append(ip)
        if not addresses:
            raise ToolError("api-connect-error", f"{host} resolves to no address")
        if not self._private_ok(host, port):
            for ip in addresses:
                if not is_public(ip):
                    raise ToolError(
                        "api-blocked-host",
                        f"{host} resolves to {ip}, a private, loopback, link-local or multicast "
                        "address; calls there are not allowed",
                    )
        return addresses[0]

    # -- requests -----------------------------------------------------------------------------
    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> HttpResponse:
        policy = self.policy
        deadline = time.monotonic() + policy.total_timeout
        current = httpx.URL(url, params=dict(params or {}))
        method = method.upper()
        body = json_body
        redirects: list[str] = []
        with httpx.Client(
            transport=self._transport, trust_env=False, follow_redirects=False
        ) as client:
            while True:
                ip = self.check(current)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ToolError("api-timeout", f"{current}: no answer within the time limit")
                timeout = httpx.Timeout(
                    remaining, connect=min(policy.connect_timeout, remaining), pool=remaining
                )
                pinned = current.copy_with(host=str(ip))
                headers = {
                    "Host": current.netloc.decode("ascii"),
                    "Accept": "application/json",
                    "User-Agent": USER_AGENT,
                }
                extensions = {"sni_hostname": current.host} if current.scheme == "https" else {}
                try:
                    with client.stream(
                        method,
                        pinned,
                        json=body,
                        headers=headers,
                        timeout=timeout,
                        extensions=extensions,
                    ) as resp:
                        location = resp.headers.get("location")
                        if resp.status_code in REDIRECT_CODES and location:
                            if len(redirects) >= policy.max_redirects:
                                raise ToolError(
                                    "api-http-error",
                                    f"{url}: more than {policy.max_redirects} redirects",
                                )
                            nxt = current.join(location)
                            redirects.append(str(nxt))
                            if resp.status_code == 303 or (
                                resp.status_code in (301, 302) and method == "POST"
                            ):
                                method, body = "GET", None
                            current = nxt
                            continue
                        data = self._read(resp, current, deadline)
                except httpx.TimeoutException as err:
                    raise ToolError(
                        "api-timeout", f"{current}: timed out ({type(err).__name__})"
                    ) from err
                except httpx.TransportError as err:
                    raise ToolError("api-connect-error", f"{current}: {err}") from err
                result = HttpResponse(
                    resp.status_code, str(current), dict(resp.headers), data, tuple(redirects)
                )
                if resp.status_code >= 400:
                    snippet = data[:300].decode("utf-8", "replace").strip()
                    raise ToolError(
                        "api-http-error",
                        f"{current} answered HTTP {resp.status_code}"
                        + (f": {snippet}" if snippet else ""),
                    )
                return result

    def _read(self, resp: httpx.Response, url: httpx.URL, deadline: float) -> bytes:
        cap = self.policy.max_bytes
        declared = resp.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise ToolError(
                "api-too-large", f"{url}: the response is {int(declared):,} bytes, over {cap:,}"
            )
        parts: list[bytes] = []
        size = 0
        for part in resp.iter_bytes():
            size += len(part)
            if size > cap:
                raise ToolError("api-too-large", f"{url}: the response is over {cap:,} bytes")
            if time.monotonic() > deadline:
                raise ToolError("api-timeout", f"{url}: the response took too long")
            parts.append(part)
        return b"".join(parts)
