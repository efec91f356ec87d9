"""A deliberately narrow HTTP client for calling outside APIs from a tool.

Every hop (the first request and each redirect, followed here by hand, at most
``max_redirects``) is checked before anything is sent:

1. the scheme is http or https, and the host is on the allow-list;
2. the host is resolved (``socket.getaddrinfo``) and *every* address it resolves to must be
   public: private, loopback, link-local, multicast, reserved and unspecified addresses are
   refused unless allowed (``allow_private=True``, or a set of ``"host"``/``"host:port"``);
3. the connection then goes to the address that was checked (the Host header and TLS SNI keep
   the name), so a second DNS answer cannot point the request elsewhere.

Private addresses: ``allow_private=True`` approves the first URL's host and port only; a set
approves ``"host:port"`` entries (a bare ``"host"`` means that host at the first URL's port).
A redirect must stay on an allowed host, and on the first URL's port (or, for a public address,
the standard port of its scheme); a private target must itself be approved, so a redirect to
another port or another private address is refused before connecting.

Timeouts: ``connect_timeout`` for connecting, ``total_timeout`` for the whole call: every
connect, read and write ends by one deadline (:mod:`cairn.tools.deadline`), redirects, headers
and body included. Bodies are streamed and the call aborted once ``max_bytes`` is passed.
Proxies from the environment are ignored (a proxy would bypass the address check).
"""

from __future__ import annotations

import ipaddress
import json
import math
import socket
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from cairn.tools.deadline import DeadlineTransport
from cairn.tools.errors import ToolError

DEFAULT_MAX_BYTES = 5_000_000
REDIRECT_CODES = (301, 302, 303, 307, 308)
USER_AGENT = "cairn-tools/0.1"
MAX_JSON_DEPTH = 64  # nesting deeper than this in an answer is refused (no API needs it)
APPROVE_HINT = (
    "approve it when adding the tool: `cairn tools add-openapi SPEC --allow-host ADDRESS` with "
    "its literal address, or `--allow-private` (for one call: `cairn tools call --allow-private`)"
)

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
        for name in ("connect_timeout", "total_timeout"):
            value = kwargs.get(name)
            if value is not None and not (
                isinstance(value, int | float) and math.isfinite(value) and value > 0
            ):
                what = "connect timeout" if name == "connect_timeout" else "timeout"
                raise ToolError(
                    "api-bad-params", f"{what} {value!r}: give a finite number of seconds over 0"
                )
        max_bytes = kwargs.get("max_bytes")
        if max_bytes is not None and not (isinstance(max_bytes, int) and max_bytes > 0):
            raise ToolError(
                "api-bad-params", f"size limit {max_bytes!r} bytes: give a whole number over 0"
            )
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
            _check_depth(self.body)
            return json.loads(self.body)
        except (UnicodeDecodeError, ValueError, RecursionError) as err:
            kind = self.headers.get("content-type", "unknown type")
            why = "nested too deeply" if isinstance(err, RecursionError) else str(err)[:200]
            raise ToolError(
                "api-bad-json", f"{self.url} did not return usable JSON ({kind}): {why}"
            ) from err


def _check_depth(body: bytes) -> None:
    """RecursionError when ``body`` nests arrays/objects over MAX_JSON_DEPTH deep (a cheap
    scan before parsing: brackets inside strings count too, which only errs on the safe side
    for strings full of brackets, and those are skipped)."""
    depth = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise RecursionError(f"nested over {MAX_JSON_DEPTH} levels")
        elif byte in (0x5D, 0x7D):
            depth -= 1


def endpoint(text: str, default_port: int) -> str:
    """``"host:port"`` (host normalised, IPv6 without brackets) for ``host``, ``host:port``,
    ``[v6]`` or ``[v6]:port``; a missing port is ``default_port``."""
    text = text.strip().lower()
    host, port = text, ""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":")
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    return f"{_norm_host(host)}:{int(port) if port.isdigit() else default_port}"


def _port(url: httpx.URL, *, default: bool = False) -> int:
    standard = 443 if url.scheme == "https" else 80
    return standard if default else (url.port or standard)


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
    def approved(self, first: httpx.URL) -> frozenset[str]:
        """The ``host:port`` endpoints private addresses are allowed for, in a call to ``first``."""
        allow = self.policy.allow_private
        port = _port(first)
        if allow is True:
            return frozenset({f"{_norm_host(first.host)}:{port}"})
        if allow is False:
            return frozenset()
        return frozenset(endpoint(a, port) for a in allow)

    def check(self, url: httpx.URL, approved: frozenset[str] | None = None) -> IPAddress:
        """The address to connect to for ``url``; ToolError ``api-blocked-host`` if none may be."""
        if approved is None:
            approved = self.approved(url)
        if url.scheme not in ("http", "https"):
            raise ToolError("api-blocked-host", f"{url}: only http and https URLs are allowed")
        host = _norm_host(url.host)
        if host not in self.policy.allowed_hosts:
            allowed = ", ".join(sorted(self.policy.allowed_hosts)) or "none"
            raise ToolError(
                "api-blocked-host",
                f"{host} is not an allowed host for this tool (allowed: {allowed})",
            )
        port = _port(url)
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
        if f"{host}:{port}" not in approved:
            for ip in addresses:
                if not is_public(ip):
                    raise ToolError(
                        "api-blocked-host",
                        f"{host}:{port} resolves to {ip}, a private, loopback, link-local or "
                        "multicast address, which this tool is not approved to reach; "
                        + APPROVE_HINT,
                    )
        return addresses[0]

    def check_redirect(self, first: httpx.URL, target: httpx.URL) -> None:
        """A redirect stays on the first URL's port or moves to its scheme's standard port
        (refused before resolving; a private address must also be approved, see check)."""
        port = _port(target)
        if port in (_port(first), _port(target, default=True)):
            return
        raise ToolError(
            "api-blocked-host",
            f"{first} redirected to {target}, port {port}: redirects must stay on the port "
            f"of the API ({_port(first)})",
        )

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
        first = current
        approved = self.approved(first)
        transport = self._transport or DeadlineTransport(deadline)
        with httpx.Client(transport=transport, trust_env=False, follow_redirects=False) as client:
            while True:
                if redirects:
                    self.check_redirect(first, current)
                ip = self.check(current, approved)
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
